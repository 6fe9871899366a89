/**
 * The fonts every export embeds: Source Sans 3 from the npm package `source-sans` (SIL OFL 1.1).
 * Exports never fall back to system fonts (a fresh machine may have none), so a missing package
 * is an error that names it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The family name inside the TTFs, and the name the SVG export uses. */
export const FONT_FAMILY = 'Source Sans 3';
/** The npm package that ships the fonts. */
export const FONT_PACKAGE = 'source-sans';

export interface FontFiles {
  /** The package's directory. */
  readonly dir: string;
  readonly regular: string;
  readonly bold: string;
  readonly italic: string;
  readonly boldItalic: string;
  readonly semibold: string;
  /** Every TTF above, for resvg's `fontFiles`. */
  readonly all: readonly string[];
}

const files = {
  regular: 'SourceSans3-Regular.ttf',
  bold: 'SourceSans3-Bold.ttf',
  italic: 'SourceSans3-It.ttf',
  boldItalic: 'SourceSans3-BoldIt.ttf',
  semibold: 'SourceSans3-Semibold.ttf',
} as const;

let cached: FontFiles | null = null;

/**
 * The absolute paths of the shipped Source Sans 3 TTF files.
 * @throws Error naming the package when it (or one of its TTFs) is missing.
 */
export function fontFiles(): FontFiles {
  if (cached) return cached;
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve(`${FONT_PACKAGE}/package.json`));
  } catch (cause) {
    throw new Error(
      `Figure export needs the font package "${FONT_PACKAGE}" (Source Sans 3), which is not installed: run npm ci.`,
      { cause },
    );
  }
  const paths = Object.fromEntries(Object.entries(files).map(([key, file]) => [key, join(dir, 'TTF', file)])) as Record<keyof typeof files, string>;
  const missing = Object.values(paths).filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new Error(`The font package "${FONT_PACKAGE}" is incomplete: missing ${missing.join(', ')}. Reinstall it with npm ci.`);
  }
  cached = { dir, ...paths, all: Object.values(paths) };
  return cached;
}
