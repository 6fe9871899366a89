/**
 * The words the workbench's charts, tables and claims use, each with the formula the code
 * implements (main/engine/instruments, main/engine/attacks, shared/distribution.ts). One source
 * for the in-app glossary (#/glossary/<id>) and for docs/glossary.md, which a test keeps equal to
 * `glossaryMarkdown()`.
 */

export interface GlossaryEntry {
  /** The anchor: #/glossary/<id> in the app, #<id> in docs/glossary.md. */
  readonly id: string;
  readonly term: string;
  /** The formula, in plain Unicode (no TeX: it is read in the app and in a text editor). */
  readonly formula: string;
  /** What it means and how to read it. */
  readonly text: string;
}

const notation =
  'W is the first layer, one row w_i per hidden neuron (m of them); M is the dictionary, d × D with orthonormal columns (atoms); w* ∈ {±1}^D is the label direction in atom coordinates, y = sign(⟨w*, z⟩) for x = M z + ξ. c_i = Mᵀ w_i are neuron i’s coordinates along the atoms. S_i is the set of its s largest |c_ik| (s = instruments.principalAtoms, 1 by default), j its largest; “off S_i” means with the entries in S_i set to 0.';

export const glossaryNotation: string = notation;

export const glossary: readonly GlossaryEntry[] = [
  {
    id: 'mixture-ratio',
    term: 'Mixture ratio',
    formula: 'r_i = Σ_{k ∉ S_i} c_ik² / ‖c_i‖²',
    text: 'The share of a neuron’s energy outside its principal atoms: 0 for a pure neuron, close to 1 for a random one (about 0.94 at D = 128 with s = 1: the largest of D random coordinates holds about 2 ln D / D of the energy). It falls during clean training although mixtures accumulate: a random init is fully mixed, and clean training grows the principal part faster than the mixture. The coherent mixture share measures what accumulates.',
  },
  {
    id: 'coherence',
    term: 'Mixture coherence',
    formula: 'coh_i = cos(c_i off S_i, s_i w* off S_i), s_i = sign(c_ij w*_j); 0 when the mixture’s energy is below 10⁻¹² ‖c_i‖²',
    text: 'Whether a neuron’s mixture points along the label direction (+1), against it (−1) or across it (0). Signed by the neuron’s own feature, so that +1 means “the mixture pushes the neuron’s output the way the label does”: a perturbation along −y M w* then lowers every such neuron at once.',
  },
  {
    id: 'coherent-share',
    term: 'Coherent mixture share κ',
    formula: 'κ_i = ⟨c_i off S_i, u_i⟩ / ‖c_i‖, u_i = s_i w* off S_i / ‖w* off S_i‖;  κ_i = coh_i · √r_i',
    text: 'The part of a neuron’s mixture that lines up with the label direction, as a share of the whole neuron: the dense mixture that a small perturbation can exploit, which the paper says clean training accumulates and adversarial training removes. About 0 at a random init (a random mixture has no direction: κ ~ N(0, 1/D)), it rises during clean training and falls under adversarial fine-tuning. |κ_i| ≤ √r_i.',
  },
  {
    id: 'participation-ratio',
    term: 'Participation ratio',
    formula: 'PR_i = (Σ_k c_ik²)² / Σ_k c_ik⁴',
    text: 'How many atoms a neuron uses: 1 for a pure neuron, D for one spread evenly over every atom.',
  },
  {
    id: 'decomposition',
    term: 'βᵢ and vᵢ (clean = robust + leftover)',
    formula: 'w_i = β_i w_i′ + v_i, β_i = ⟨w_i, w_i′⟩ / ‖w_i′‖², v_i ⊥ w_i′;  ratio_i = ‖β_i w_i′‖ / ‖v_i‖',
    text: 'w_i is neuron i after clean training and w_i′ the same neuron after adversarial fine-tuning. The paper’s principle (claim C3) is that most clean neurons are their robust feature plus a smaller leftover: ratio_i > 1 (the share of neurons above 1 is reported). β_i = 0 when w_i′ = 0; the ratio is ∞ when v_i = 0.',
  },
  {
    id: 'effective-rank',
    term: 'Effective rank',
    formula: 'erank(Δ) = exp(−Σ_k p_k log p_k), p_k = σ_k / Σ_l σ_l, Δ = W′ − W',
    text: 'A continuous rank of the fine-tuning update from its singular values σ_k (Roy & Vetterli 2007): 1 for a rank-one update, n for n equal singular values. Singular values below max(rows, cols) · ε · σ_max count as 0.',
  },
  {
    id: 'stable-rank',
    term: 'Stable rank',
    formula: 'srank(Δ) = ‖Δ‖_F² / σ_max²',
    text: 'A lower bound on the rank that small singular values cannot inflate: 1 for a rank-one update. A small stable rank with a larger effective rank means a few directions carry most of the update and many small ones the rest.',
  },
  {
    id: 'mixture-direction-accuracy',
    term: 'Mixture-direction accuracy',
    formula: 'x̃ = x − y ε u, u = M w* / ‖M w*‖ (ℓ2) or sign(M w*) (ℓ∞); accuracy of sign f(x̃) against y, f(x̃) = 0 wrong',
    text: 'Accuracy under one fixed perturbation along the label direction, the same for every sample up to its label: no gradient, no search. It reads out how much the coherent mixtures hurt, since they all line up with M w*. Synthetic task only (it needs the dictionary). Over training it is measured at the evaluation eps.',
  },
  {
    id: 'worst-case',
    term: 'Worst case over all attacks',
    formula: 'robust_n = 1 if f(x_n) is right and every attack that ran (random noise included) failed on x_n at this eps; accuracy = mean_n robust_n',
    text: 'Per sample, not per attack: a sample counts as robust only if no attack broke it. Every attack’s robust accuracy is an upper bound on the true robust accuracy; the worst case is the tightest bound the run has, and the attacks behind it are named beside it.',
  },
  {
    id: 'wilson-interval',
    term: 'Wilson interval',
    formula: '(p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n), p̂ = k/n, z = 1.96',
    text: 'The 95 % interval of an accuracy measured on n test samples (k right). Unlike p̂ ± z √(p̂(1 − p̂)/n) it stays inside [0, 1] and keeps a width at 0 and 1. About ±0.022 at n = 2000 and p̂ = 1/2. It covers the test set’s sampling only, not seeds or attacks that were not run.',
  },
];

/** An entry by id; throws on an unknown id, so a caption cannot link to nothing. */
export function glossaryEntry(id: string): GlossaryEntry {
  const entry = glossary.find((e) => e.id === id);
  if (!entry) throw new Error(`no glossary entry "${id}": expected one of ${glossary.map((e) => e.id).join(', ')}`);
  return entry;
}

/** docs/glossary.md, exactly (a test compares the file with this). */
export function glossaryMarkdown(): string {
  const lines = [
    '# Glossary',
    '',
    'The quantities the Purification Lab shows, each with the formula the code computes. In the app: the',
    'glossary view (`#/glossary`), linked from every chart’s caption. This file is generated from',
    '`shared/glossary.ts` (a test keeps the two equal). The longer account, with the paper, the task and the',
    'protocols: [science.md](science.md).',
    '',
    `Notation. ${notation}`,
    '',
  ];
  for (const e of glossary) {
    lines.push(`<a id="${e.id}"></a>`, `## ${e.term}`, '', `    ${e.formula}`, '', e.text, '');
  }
  return lines.join('\n');
}
