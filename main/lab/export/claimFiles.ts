/**
 * The paper's claims as files: each claim's figure as SVG, PNG and PDF (rendered like every
 * exported figure, render.ts, at the claim's paper size), the CSV behind it, its caption as text,
 * and the one-page HTML summary that holds all five with their captions and checks. `lab figures`
 * writes them into a folder; the Paper page downloads them one at a time (paper.export).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claimOption } from '../../../shared/charts/claims.ts';
import { paperInches, PX_PER_INCH } from '../../../shared/charts/common.ts';
import type { Figure } from '../../../shared/charts/index.ts';
import type { PaperClaim, ReadyClaim } from '../../../shared/paper.ts';
import { figureBytes, figureContentTypes } from './figureFile.ts';

export const claimFileFormats = ['svg', 'png', 'pdf', 'csv', 'txt'] as const;
export type ClaimFileFormat = (typeof claimFileFormats)[number];

export interface ClaimFile {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  readonly fileName: string;
}

/** The claim's figure for export: the shared builder, static, on white paper, laid out for its paper size. */
export function claimFigure(claim: ReadyClaim): Figure {
  const paper = paperInches[claim.size];
  const option = claimOption(claim.chart, { static: true, width: paper.width * PX_PER_INCH, height: paper.height * PX_PER_INCH });
  return { name: claim.fileStem, title: claim.title, option, size: claim.size };
}

/** The caption file: title, caption, and the check line. */
export function claimText(claim: ReadyClaim): string {
  const verdict = claim.check.holds === null ? 'undecided' : claim.check.holds ? 'holds' : 'does not hold';
  return `${claim.title}\n\n${claim.statement}\n\n${claim.caption}\n\nCheck (${verdict}): ${claim.check.text}.\n`;
}

/** One file of a claim, in memory. */
export async function claimFile(claim: ReadyClaim, format: ClaimFileFormat): Promise<ClaimFile> {
  const fileName = `${claim.fileStem}.${format}`;
  switch (format) {
    case 'csv':
      return { bytes: new TextEncoder().encode(claim.csv), contentType: 'text/csv; charset=utf-8', fileName };
    case 'txt':
      return { bytes: new TextEncoder().encode(claimText(claim)), contentType: 'text/plain; charset=utf-8', fileName };
    default:
      return { bytes: await figureBytes(claimFigure(claim), format), contentType: figureContentTypes[format], fileName };
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export interface SummaryContext {
  readonly settings: string;
  readonly codeVersion: string;
  readonly backend: string;
  /** How long the figures took (the CLI knows; the page does not). */
  readonly seconds?: number;
  /** Say which files sit beside the summary (the CLI's folder). */
  readonly filesBeside?: boolean;
}

/**
 * The one-page summary: every claim's figure (PNG, inline), caption and check. A claim still
 * pending says what it waits for, so a summary downloaded early is honest about its gaps.
 */
export async function paperSummaryHtml(claims: readonly PaperClaim[], context: SummaryContext, pngOf?: (claim: ReadyClaim) => Promise<Uint8Array>): Promise<string> {
  const sections: string[] = [];
  for (const claim of claims) {
    if (claim.status === 'pending') {
      sections.push(
        `<section><h2>${escapeHtml(claim.title)}</h2><p class="statement">${escapeHtml(claim.statement)}</p><p class="pending">Not computed yet: waiting for ${claim.needed - claim.done} of ${claim.needed} (${escapeHtml(claim.waitingFor.join(', '))}).</p></section>`,
      );
      continue;
    }
    const png = pngOf ? await pngOf(claim) : (await claimFile(claim, 'png')).bytes;
    const verdict = claim.check.holds === null ? 'undecided' : claim.check.holds ? 'holds' : 'does not hold';
    sections.push(
      `<section><h2>${escapeHtml(claim.title)}</h2><p class="statement">${escapeHtml(claim.statement)}</p><img alt="${escapeHtml(claim.title)}" src="data:image/png;base64,${Buffer.from(png).toString('base64')}"><p>${escapeHtml(claim.caption)}</p><p class="check ${claim.check.holds === false ? 'fails' : ''}">Check (${verdict}): ${escapeHtml(claim.check.text)}.</p>${context.filesBeside ? `<p class="files">${claim.fileStem}.svg · .png · .pdf · .csv</p>` : ''}</section>`,
    );
  }
  const took = context.seconds !== undefined ? ` Computed in ${context.seconds.toFixed(0)} s.` : '';
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>Feature purification: the five claims</title><style>body{font-family:'Source Sans 3',sans-serif;max-width:980px;margin:2em auto;color:#1a1a1a}section{margin-bottom:2.5em}img{max-width:100%;border:1px solid #ddd}p{line-height:1.45}.statement{font-style:italic}.check{font-weight:600}.check.fails{color:#b3261e}.pending{color:#8a6d00}.files{color:#666;font-size:.9em}</style><h1>Feature purification: the five claims</h1><p>Allen-Zhu &amp; Li, "Feature Purification: How Adversarial Training Performs Robust Deep Learning" (arXiv 2005.10190), reproduced by Purification Lab ${escapeHtml(context.codeVersion)} on ${escapeHtml(context.backend)}. ${escapeHtml(context.settings)}.${took}</p>${sections.join('')}</html>\n`;
}

/** Every file of every ready claim into `dir` (created); returns each claim's PNG (for the summary), by claim id. */
export async function writeClaimFiles(dir: string, claims: readonly ReadyClaim[]): Promise<Map<string, Uint8Array>> {
  mkdirSync(dir, { recursive: true });
  const pngs = new Map<string, Uint8Array>();
  for (const claim of claims) {
    for (const format of claimFileFormats) {
      const file = await claimFile(claim, format);
      writeFileSync(join(dir, file.fileName), file.bytes);
      if (format === 'png') pngs.set(claim.id, file.bytes);
    }
  }
  return pngs;
}
