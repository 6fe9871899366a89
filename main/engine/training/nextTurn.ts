/**
 * A stack's answer at the next turn of the event loop: its members make their requests in the
 * same turn (each awaits its own), and one call answers all of them, so `schedule` after every
 * request runs `answer` once, after the last request of the turn.
 */
export class NextTurn {
  private scheduled = false;

  constructor(private readonly answer: () => void) {}

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.answer();
    });
  }
}
