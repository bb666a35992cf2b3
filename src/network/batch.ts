/**
 * Items that share one command. The first caller's items run at once; the
 * items callers give while that command runs are gathered and run together
 * when it ends, and so on. Nothing waits for a batch to fill, so a lone
 * caller is as quick as before.
 *
 * Why: a `down` removes its containers side by side, and each removal's
 * `umount` and `ip link del`/`netns del` were a command of their own (60
 * processes for a `down` of 30). One `umount A B C` or one `ip -batch` of
 * many lines costs about what one of them did.
 *
 * Only for commands whose items are independent and whose failures the
 * callers check for themselves afterwards (a batch's exit code covers them
 * all, so it cannot say whose item failed).
 */
export class Batcher<T> {
  private running = false
  private gathered?: { items: T[]; waiters: { resolve: () => void; reject: (err: unknown) => void }[] }

  constructor(private readonly runBatch: (items: T[]) => Promise<void>) {}

  add(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.gathered ??= { items: [], waiters: [] }
      this.gathered.items.push(...items)
      this.gathered.waiters.push({ resolve, reject })
      if (!this.running) void this.drain()
    })
  }

  private async drain(): Promise<void> {
    this.running = true
    while (this.gathered) {
      const batch = this.gathered
      this.gathered = undefined
      try {
        await this.runBatch(batch.items)
        for (const w of batch.waiters) w.resolve()
      } catch (err) {
        for (const w of batch.waiters) w.reject(err)
      }
    }
    this.running = false
  }
}
