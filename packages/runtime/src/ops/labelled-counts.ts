/**
 * Plain counts keyed by a label tuple. Hot paths bump a number in a Map; the Prometheus
 * counter reads the whole map at scrape time, so counting costs no label hashing per event.
 */
export class LabelledCounts<Labels extends Record<string, string>> {
  private readonly counts = new Map<string, { labels: Labels; value: number }>();

  add(key: string, labels: () => Labels, amount = 1): void {
    const entry = this.counts.get(key);
    if (entry) entry.value += amount;
    else this.counts.set(key, { labels: labels(), value: amount });
  }

  entries(): IterableIterator<{ labels: Labels; value: number }> {
    return this.counts.values();
  }

  total(): number {
    let sum = 0;
    for (const entry of this.counts.values()) sum += entry.value;
    return sum;
  }
}
