/**
 * The header's backend details: an adapter's byte limits read in binary units beside the exact
 * count, and every other detail as it is.
 */
import { describe, expect, it } from 'vitest';
import { backendDetail } from '../../renderer/viewLogic/format.ts';

describe('backendDetail', () => {
  it("shows an adapter's byte limits in binary units beside the exact count", () => {
    expect(backendDetail('maxBufferSize', 2 ** 30)).toBe('1073741824 (1 GiB)');
    expect(backendDetail('maxStorageBufferBindingSize', 2 ** 27)).toBe('134217728 (128 MiB)');
    expect(backendDetail('maxComputeWorkgroupStorageSize', 32768)).toBe('32768 (32 KiB)');
    expect(backendDetail('maxBufferSize', 2 ** 32 - 4)).toBe('4294967292 (4.0 GiB)');
    expect(backendDetail('maxBufferSize', 1536 * 2 ** 20)).toBe('1610612736 (1.5 GiB)');
  });

  it('leaves every other detail as it is', () => {
    expect(backendDetail('maxComputeWorkgroupStorageSize', 512)).toBe('512');
    expect(backendDetail('threads', 4096)).toBe('4096');
    expect(backendDetail('software', true)).toBe('true');
    expect(backendDetail('vendor', 'google')).toBe('google');
  });
});
