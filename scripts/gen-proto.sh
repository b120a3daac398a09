#!/usr/bin/env bash
# Regenerates the TypeScript protobuf code from packages/sdk/proto.
#   scripts/gen-proto.sh           write into packages/sdk/src/protocol/gen (committed)
#   scripts/gen-proto.sh --check   fail if the committed code differs from a fresh generation
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
proto_dir="$root/packages/sdk/proto"
out_dir="$root/packages/sdk/src/protocol/gen"
plugin="$root/node_modules/.bin/protoc-gen-es"

if ! command -v protoc >/dev/null; then
  echo "protoc not found: install Debian's protobuf-compiler" >&2
  exit 1
fi

generate() {
  local target="$1"
  rm -rf "$target" && mkdir -p "$target"
  (cd "$proto_dir" && find . -name '*.proto' | sort | xargs protoc \
    --plugin=protoc-gen-es="$plugin" \
    --es_out="$target" \
    --es_opt=target=ts,import_extension=js)
}

if [[ "${1:-}" == "--check" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  if ! diff -r "$tmp" "$out_dir"; then
    echo "generated protobuf code is stale: run scripts/gen-proto.sh and commit the result" >&2
    exit 1
  fi
  echo "generated protobuf code is current"
else
  generate "$out_dir"
  echo "generated into ${out_dir#"$root"/}"
fi
