/**
 * Where a robust accuracy was measured: its radius, norm and attack. A robust accuracy without
 * them cannot be compared: 0.785 at eps 0.1 is not "more robust" than 0.499 at eps 0.3, so every
 * robust figure on screen carries its setting ("0.499 @ l2 0.3, PGD-20"), and runs are compared at
 * one radius read from the robust-vs-eps curves each run stores, or said to have none there.
 */
import type { EvalAttack, Norm, ResolvedExperiment } from './config.ts';
import type { Accuracy, Evaluation } from './events.ts';

export interface RobustSetting {
  readonly eps: number;
  readonly norm: Norm;
  /** The evaluation attack (the first of eval.attacks), short: "PGD-20", "FGM", "FGSM". */
  readonly attack: string;
  /** Image inputs in [0, 1]: radii read as fractions of 255. */
  readonly image: boolean;
}

/** An attack's short name: "PGD-20", "PGD-20 ×3" (restarts), "FGM" (l2) or "FGSM" (linf), "mixture direction". */
export function attackShortName(attack: EvalAttack, norm: Norm): string {
  if (attack.kind === 'pgd') return `PGD-${attack.steps}${attack.restarts > 1 ? ` ×${attack.restarts}` : ''}`;
  if (attack.kind === 'fgm') return norm === 'linf' ? 'FGSM' : 'FGM';
  return 'mixture direction';
}

/** The setting of a run's headline robust accuracy. */
export function robustSetting(config: Pick<ResolvedExperiment, 'eval' | 'task'>): RobustSetting {
  const first = config.eval.attacks[0];
  return {
    eps: config.eval.eps,
    norm: config.eval.norm,
    attack: first ? attackShortName(first, config.eval.norm) : 'worst case',
    image: config.task.kind !== 'sparse-coding',
  };
}

/**
 * A radius as people write it: on image tasks a whole number of 255ths is "2/255" (pixel levels),
 * anything else the shortest decimal that reads back as the same number.
 */
export function epsText(eps: number, image: boolean): string {
  if (image && eps !== 0) {
    const levels = eps * 255;
    const whole = Math.round(levels);
    if (whole !== 0 && Math.abs(levels - whole) < 1e-9 * Math.max(1, whole)) return `${whole}/255`;
  }
  return String(Number(eps.toPrecision(12)));
}

/** "l2 0.3, PGD-20" */
export function settingText(s: RobustSetting): string {
  return `${s.norm} ${epsText(s.eps, s.image)}, ${s.attack}`;
}

/** "0.499 @ l2 0.3, PGD-20" */
export function robustFigure(value: number | null | undefined, s: RobustSetting, digits = 3): string {
  const v = value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
  return `${v} @ ${settingText(s)}`;
}

const sameEps = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** A curve's accuracy at `eps`, or null where it was not measured. */
function curveAt(curve: { eps: readonly number[]; accuracy: readonly Accuracy[] } | undefined, eps: number): Accuracy | null {
  if (!curve) return null;
  const i = curve.eps.findIndex((e) => sameEps(e, eps));
  return i >= 0 ? (curve.accuracy[i] ?? null) : null;
}

export type RobustAtEps =
  | {
      readonly measured: true;
      /** The evaluation attack (the first curve) at this radius. */
      readonly attack: Accuracy | null;
      readonly attackName: string;
      /** The per-sample worst case over every attack that ran. */
      readonly worstCase: Accuracy;
      readonly mixtureDirection: Accuracy | null;
    }
  | { readonly measured: false; readonly reason: string };

/**
 * A run's final robust accuracies at one radius and norm, read from its evaluation's curves, or
 * why there are none: another norm, or a radius off its grid (the grid is named).
 */
export function robustAtEps(evaluation: Evaluation | undefined, eps: number, norm: Norm, image = false): RobustAtEps {
  if (!evaluation) return { measured: false, reason: 'not evaluated yet' };
  if (evaluation.norm !== norm) return { measured: false, reason: `measured in ${evaluation.norm}, not ${norm}` };
  const worstCase = curveAt(evaluation.worstCase, eps);
  if (!worstCase) {
    const grid = evaluation.worstCase.eps.map((e) => epsText(e, image)).join(', ');
    return { measured: false, reason: `not measured at ε ${epsText(eps, image)} (its grid: ${grid})` };
  }
  const first = evaluation.curves[0];
  const mixture = evaluation.curves.find((c) => c.attack.toLowerCase().startsWith('mixture'));
  return {
    measured: true,
    attack: curveAt(first, eps),
    attackName: first ? first.attack.split(' (')[0]! : '',
    worstCase,
    mixtureDirection: curveAt(mixture, eps),
  };
}

/**
 * The radii to offer for a comparison: every radius of the final evaluations in `norm`, sorted;
 * those that every run measured are flagged, so the view can start at a radius all runs share.
 */
export function commonEpsChoices(evaluations: readonly (Evaluation | undefined)[], norm: Norm): { eps: number; everyRun: boolean }[] {
  const all: number[] = [];
  for (const e of evaluations) if (e && e.norm === norm) for (const x of e.worstCase.eps) if (!all.some((y) => sameEps(x, y))) all.push(x);
  return all
    .sort((a, b) => a - b)
    .map((eps) => ({ eps, everyRun: evaluations.every((e) => e !== undefined && e.norm === norm && curveAt(e.worstCase, eps) !== null) }));
}

/**
 * The radius a comparison shows: the user's own pick while the choices hold it; else the largest
 * of the runs' own headline radii that every run measured, else the largest radius every run
 * measured, else the largest any did. A function of what is loaded now, never sticky: a run whose
 * evaluation is read later changes what every run measured, and so the start.
 */
export function comparisonEps(choices: readonly { eps: number; everyRun: boolean }[], headlineRadii: readonly number[], userPick: number | null): number | null {
  if (userPick !== null && choices.some((c) => c.eps === userPick)) return userPick;
  const shared = choices.filter((c) => c.everyRun);
  const headline = shared.filter((c) => headlineRadii.some((eps) => sameEps(eps, c.eps)));
  return (headline[headline.length - 1] ?? shared[shared.length - 1] ?? choices[choices.length - 1])?.eps ?? null;
}
