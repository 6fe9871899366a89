/**
 * The reference curve of C3 against dimension: sqrt(2 ln d / d). For a unit vector drawn at
 * random in R^d, its coordinates are about N(0, 1/d) and the largest of d of them in absolute
 * value is about sqrt(2 ln d / d). Issue 7's hypothesis: the neurons' cosines with their init
 * shrink like this as d grows, which would make them "nearly uncorrelated" in the paper's
 * high-dimensional sense. The figure overlays it so that the hypothesis is tested, not assumed.
 */
export function dimensionReference(d: number): number {
  return Math.sqrt((2 * Math.log(d)) / d);
}
