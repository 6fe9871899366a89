import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../main/engine/random.ts';

describe('seeded random streams', () => {
  it('the same seed and name give the same stream; another name gives another', () => {
    const a = RandomStream.derive(3, 'data');
    const b = RandomStream.derive(3, 'data');
    const c = RandomStream.derive(3, 'init');
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });
  it('a restored state continues the stream exactly, a pending normal included', () => {
    const a = RandomStream.derive(9, 'x');
    a.normal(); // leaves a spare
    const restored = RandomStream.fromState(JSON.parse(JSON.stringify(a.state)));
    expect(Array.from({ length: 7 }, () => restored.normal())).toEqual(Array.from({ length: 7 }, () => a.normal()));
  });
  it('normals have mean 0 and variance 1; a permutation is a permutation', () => {
    const r = RandomStream.derive(1, 'n');
    const v = Array.from({ length: 20000 }, () => r.normal());
    const mean = v.reduce((s, t) => s + t, 0) / v.length;
    const variance = v.reduce((s, t) => s + (t - mean) ** 2, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.04);
    const p = Array.from(r.permutation(50)).sort((x, y) => x - y);
    expect(p).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
