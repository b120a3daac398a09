import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** PEM files made for one test run: a CA, a server certificate it signed, and a client one. */
export interface TestCertificates {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** The client key encrypted with the passphrase in `clientKeyPasswordFile`. */
  readonly encryptedClientKey: string;
  readonly clientKeyPasswordFile: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** Makes certificates with the openssl CLI; EC keys keep it fast. */
export function makeCertificates(dir: string): TestCertificates {
  const path = (name: string) => join(dir, name);
  const newKey = (name: string) =>
    openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name]);
  newKey("ca.key");
  openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-key",
    "ca.key",
    "-subj",
    "/CN=switchboard test CA",
    "-days",
    "2",
    "-out",
    "ca.pem",
  ]);
  const issue = (name: string, subject: string, extensions: string) => {
    newKey(`${name}.key`);
    openssl(dir, ["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
    writeFileSync(path(`${name}.ext`), extensions);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    ]);
  };
  issue(
    "server",
    "/CN=localhost",
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  issue("client", "/CN=switchboard test client", "extendedKeyUsage=clientAuth\n");
  writeFileSync(path("client-key.pass"), "correct horse battery staple\n");
  openssl(dir, [
    "pkcs8",
    "-topk8",
    "-in",
    "client.key",
    "-v2",
    "aes-256-cbc",
    "-passout",
    "file:client-key.pass",
    "-out",
    "client-encrypted.key",
  ]);
  return {
    ca: path("ca.pem"),
    serverCert: path("server.pem"),
    serverKey: path("server.key"),
    clientCert: path("client.pem"),
    clientKey: path("client.key"),
    encryptedClientKey: path("client-encrypted.key"),
    clientKeyPasswordFile: path("client-key.pass"),
  };
}
