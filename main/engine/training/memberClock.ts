/**
 * The training seconds of a stack's member (./stackedProgram.ts). Its epoch's wall time is no
 * measure of its work: while it awaits a request, the stack's call computes every member's step,
 * and the other members run their own code. So a member's clock counts only (1) the spans in
 * which its own code runs, from each resumption to its next request, and (2) its share of each
 * call of the stack's, the call's seconds in proportion to the rows it computed for this member.
 * The spans of different members never overlap (one event loop) and the shares of a call add up
 * to the call, so the members' clocks together never exceed the stack's wall time.
 */
export class MemberClock {
  /** Seconds this member has computed: its own spans and its shares of the stack's calls. */
  seconds = 0;
  private since: number | null = null;

  /** Its code runs again: the epoch starts, or it resumed after a request. */
  resume(): void {
    this.since = performance.now();
  }

  /** Its code stops: it awaits a request, or returns to a caller that may yield to the others. */
  pause(): void {
    if (this.since === null) return;
    this.seconds += (performance.now() - this.since) / 1000;
    this.since = null;
  }

  /** Its share of one call of the stack's. */
  share(seconds: number): void {
    this.seconds += seconds;
  }
}

/**
 * One call's seconds since `t0` (performance.now()), shared out to the clocks of the members it
 * computed for, in proportion to their rows (before any of them resumes: that waits for the
 * call's answer to end); returns them.
 */
export function shareCall<R extends { clock: MemberClock }>(group: readonly R[], t0: number, rows: (r: R) => number): number {
  const seconds = (performance.now() - t0) / 1000;
  const total = group.reduce((sum, r) => sum + rows(r), 0);
  for (const r of group) r.clock.share(total > 0 ? (seconds * rows(r)) / total : seconds / group.length);
  return seconds;
}
