/**
 * The colours of every Purification Lab figure: the live UI, the comparison page and the
 * headless export all read them from here, so a hue means one thing, app-wide.
 *
 * Hue = a quantity, never a phase or a model:
 *   CLEAN              clean accuracy                                  (Okabe–Ito blue)
 *   ROBUST             robust accuracy (the evaluation attack's)      (Okabe–Ito vermillion)
 *   MIXTURE_DIRECTION  accuracy under the mixture-direction attack    (Okabe–Ito reddish purple)
 *   ATTACK_COLORS      one attack kind each on robust-vs-eps curves   (orange PGD, bluish green FGM,
 *                      sky blue the random-noise check)
 *   RUN_COLORS         one run each, on the comparison page, where colour means only that
 * No hue: the theme's foreground (black / near-white) and greys draw the one quantity of a chart
 * that has no hue of its own (a per-neuron distribution, the worst case over attacks).
 *
 * Other channels carry the rest, and the legends show them:
 *   the phase        a neutral shaded band over the adversarial phase (`Theme.phaseShade`, legend
 *                    entry "adversarial phase") and the dashed boundary line "clean → adversarial";
 *                    panel titles say the phase in words
 *   two models       "after clean training" vs "fine-tuned" (robust curves, before/after
 *                    histograms, claims C2/C3): line style, `MODEL_LINE` (dashed vs solid)
 *
 * Categorical colours are Okabe & Ito's colour-blind-safe set ("Color Universal Design", 2008);
 * the diverging scale is Paul Tol's PRGn (SRON/EPS/TN/09-002) and the sequential one YlGn, both
 * readable with the common colour-vision deficiencies and in greyscale (by lightness). Runs anywhere: no imports at all.
 */

/** Okabe–Ito, by name. */
export const okabeIto = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
} as const;

/** Clean accuracy, and nothing else. */
export const CLEAN = okabeIto.blue;
/** Robust accuracy (under the evaluation attack), and nothing else. */
export const ROBUST = okabeIto.vermillion;
/** Accuracy under the mixture-direction attack (and that attack's curve). */
export const MIXTURE_DIRECTION = okabeIto.reddishPurple;
/** The per-sample worst case over all attacks, on a light background (see `Theme.worstCase`). */
export const WORST_CASE = okabeIto.black;

/**
 * Runs side by side (the comparison page): one colour per run, and there colour means nothing
 * else; clean / robust and the phases are told by line style there. Paul Tol's "muted" scheme
 * (SRON/EPS/TN/09-002), colour-blind safe, without its darkest entries (unreadable on the dark
 * theme) and in an order that keeps the first runs far from CLEAN, ROBUST and the attack colours.
 */
export const RUN_COLORS: readonly string[] = ['#44AA99', '#AA4499', '#999933', '#88CCEE', '#CC6677', '#DDCC77'];

/** Per-attack colours, by the attack's kind. None of them is CLEAN or ROBUST. */
export const ATTACK_COLORS = {
  pgd: okabeIto.orange,
  fgm: okabeIto.bluishGreen,
  'mixture-direction': MIXTURE_DIRECTION,
  'random-noise': okabeIto.skyBlue,
} as const;

/**
 * The one meaning of each hue a chart series may take (RUN_COLORS aside, on the comparison page);
 * any other colour a series takes is a neutral (grey, the foreground, the phase's shade).
 */
export const HUE_MEANINGS: Readonly<Record<string, string>> = {
  [CLEAN]: 'clean accuracy',
  [ROBUST]: 'robust accuracy',
  [MIXTURE_DIRECTION]: 'mixture-direction attack',
  [ATTACK_COLORS.pgd]: 'PGD attack',
  [ATTACK_COLORS.fgm]: 'FGM attack',
  [ATTACK_COLORS['random-noise']]: 'random-noise check',
};

/**
 * The two models of a run that fine-tunes, where a figure compares them: the model after clean
 * training dashed, the fine-tuned one solid, both in the quantity's colour (never a hue of their own).
 */
export const MODEL_LINE = { afterClean: 'dashed', fineTuned: 'solid' } as const;

/** Colours for attacks of other kinds, in order. */
export const EXTRA_ATTACK_COLORS: readonly string[] = [okabeIto.yellow, '#999999'];

/**
 * The colour of an attack's curve, from its label as the engine writes it ("PGD-20 (l2, ...)",
 * "FGM (l2)", "mixture direction (l2)"); `index` picks an extra colour for unknown kinds.
 */
export function attackColor(label: string, index = 0): string {
  const l = label.trim().toLowerCase();
  if (l.startsWith('pgd')) return ATTACK_COLORS.pgd;
  if (l.startsWith('fgm') || l.startsWith('fgsm')) return ATTACK_COLORS.fgm;
  if (l.startsWith('mixture')) return ATTACK_COLORS['mixture-direction'];
  if (l.startsWith('random')) return ATTACK_COLORS['random-noise'];
  return EXTRA_ATTACK_COLORS[index % EXTRA_ATTACK_COLORS.length] as string;
}

/**
 * Tol's PRGn diverging scale, negative (purple) → 0 (white) → positive (green); odd length,
 * white centre. Neither end is blue or red, so a coefficient's sign never reads as clean/robust.
 */
export const DIVERGING: readonly string[] = [
  '#762A83',
  '#9970AB',
  '#C2A5CF',
  '#E7D4E8',
  '#F7F7F7',
  '#D9F0D3',
  '#ACD39E',
  '#5AAE61',
  '#1B7837',
];

/**
 * A yellow–green sequential scale (ColorBrewer/Tol YlGn), low → high, for counts and densities:
 * neither blue nor orange, so it never reads as the clean or the robust colour.
 */
export const SEQUENTIAL: readonly string[] = [
  '#FFFFE5',
  '#F7FCB9',
  '#D9F0A3',
  '#ADDD8E',
  '#78C679',
  '#41AB5D',
  '#238443',
  '#006837',
  '#004529',
];

export type ThemeName = 'light' | 'dark';

export interface Theme {
  readonly name: ThemeName;
  readonly background: string;
  /** Titles, legend and axis names. */
  readonly text: string;
  /** Tick labels and secondary text. */
  readonly subtleText: string;
  /** Axis lines and ticks. */
  readonly axis: string;
  /** Grid (split) lines. */
  readonly split: string;
  /** The phase-boundary line and its label. */
  readonly boundary: string;
  /** The neutral shade over the adversarial phase (the phase's channel: never a hue). */
  readonly phaseShade: string;
  readonly phaseShadeOpacity: number;
  /** The worst-case curve (black on light, near-white on dark). */
  readonly worstCase: string;
  /** Opacity of interval bands (95 % intervals, quartile bands). */
  readonly bandOpacity: number;
  /** Opacity of the faint min–max band. */
  readonly faintBandOpacity: number;
}

export const themes: Readonly<Record<ThemeName, Theme>> = {
  light: {
    name: 'light',
    background: '#FFFFFF',
    text: '#1A1A1A',
    subtleText: '#4D4D4D',
    axis: '#6B6B6B',
    split: '#E6E6E6',
    boundary: '#4D4D4D',
    phaseShade: '#000000',
    phaseShadeOpacity: 0.07,
    worstCase: WORST_CASE,
    bandOpacity: 0.22,
    faintBandOpacity: 0.09,
  },
  dark: {
    name: 'dark',
    background: '#1E1F22',
    text: '#E8E8E8',
    subtleText: '#B8B8B8',
    axis: '#9A9A9A',
    split: '#3A3B3F',
    boundary: '#C8C8C8',
    phaseShade: '#FFFFFF',
    phaseShadeOpacity: 0.08,
    worstCase: '#F2F2F2',
    bandOpacity: 0.3,
    faintBandOpacity: 0.14,
  },
};

/** The theme of a name (light by default). */
export function theme(name: ThemeName = 'light'): Theme {
  return themes[name];
}
