/**
 * The hidden units as images through both export paths, on a fabricated image run in a temp
 * store: `lab export` writes neuron-images.svg (the pictures embedded as PNG data URIs), a PNG
 * drawn by resvg and a PDF; the service's export route (browser mode, desktop) sends the same
 * figure, and refuses it, saying why, for a sparse-coding run.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService, NotFoundError, type JobControl } from '../../main/lab/service.ts';
import { codeVersion, configHash } from '../../main/lab/provenance.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { neuronImagesFigure } from '../../shared/charts/index.ts';
import { resolveExperiment } from '../../shared/config.ts';
import { imageRun } from '../fixtures/imageRun.ts';
import { storeRun } from '../fixtures/storeRun.ts';
import { labInProcess } from '../support/labCli.ts';

const storeDir = mkdtempSync(join(tmpdir(), 'lab-neuron-images-'));
const run = imageRun({ units: 36, cleanEpochs: 4, adversarialEpochs: 3 });
let imageId: string;
let sparseId: string;

beforeAll(() => {
  const store = RunStore.open(storeDir);
  try {
    imageId = storeRun(store, run, { name: 'fixture image run' });
    const config = resolveExperiment({});
    sparseId = store.createRun({ input: {}, config, configHash: configHash(config), codeVersion: codeVersion() }).id;
  } finally {
    store.close();
  }
});

const lab = (args: string[]) => labInProcess(args, storeDir);

describe('lab export of an image run', () => {
  it('writes neuron-images as SVG with the pictures embedded, PNG and PDF, beside the roughness chart', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lab-neuron-images-out-'));
    const exported = await lab(['export', imageId, '--format', 'svg,png,pdf', '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const files = readdirSync(join(out, imageId));
    for (const ext of ['svg', 'png', 'pdf']) {
      expect(files).toContain(`neuron-images.${ext}`);
      expect(files).toContain(`neuron-roughness.${ext}`);
      expect(files).not.toContain(`mixture-accumulation.${ext}`);
    }
    const svg = readFileSync(join(out, imageId, 'neuron-images.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[^>]*width="(\d+)" height="(\d+)"/);
    expect(svg.match(/<image [^>]*href="data:image\/png;base64,/g)).toHaveLength(2);
    expect(svg).toContain('after clean training (epoch 4)');
    expect(svg).toBe(neuronImagesFigure(run.result)!.svg);

    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!;
    const png = decode(readFileSync(join(out, imageId, 'neuron-images.png')));
    expect([png.width, png.height]).toEqual([2 * Number(w), 2 * Number(h)]);
    // The pictures are drawn: the clean panel holds both ends of the diverging scale.
    const colours = new Set<string>();
    for (let i = 0; i < png.data.length; i += png.channels) colours.add(`${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`);
    expect(colours.size).toBeGreaterThan(500);

    const pdf = readFileSync(join(out, imageId, 'neuron-images.pdf'));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').match(/\/Subtype \/Image/g)).toHaveLength(2);
  });

  it('writes no neuron-images for a run without them', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lab-neuron-images-none-'));
    const exported = await lab(['export', sparseId, '--format', 'svg', '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).not.toMatch(/neuron-images/);
  });
});

describe('the export route', () => {
  let store: RunStore;
  let service: LabService;
  beforeAll(() => {
    store = RunStore.open(storeDir);
    const queue: JobControl = {
      subscribe: () => () => undefined,
      submit: () => {
        throw new Error('no jobs here');
      },
      resume: (id: string) => store.get(id),
      cancel: () => false,
      backendInfo: () => Promise.resolve(run.result.backend),
      active: [],
    };
    service = new LabService(store, queue, { measureThroughput: false });
  });
  afterAll(() => store.close());

  it('sends the neuron-images figure of an image run as PNG and SVG', async () => {
    const png = await service.exportFile(imageId, 'neuron-images', 'png');
    expect(png.contentType).toBe('image/png');
    expect(png.fileName).toBe(`${imageId}-neuron-images.png`);
    expect(decode(png.bytes).width).toBe(2 * neuronImagesFigure(run.result)!.size.width);
    const svg = await service.exportFile(imageId, 'neuron-images', 'svg');
    expect(new TextDecoder().decode(svg.bytes)).toBe(neuronImagesFigure(run.result)!.svg);
  });

  it('refuses neuron-images for a sparse-coding run, saying only image runs have it', async () => {
    const refused = service.exportFile(sparseId, 'neuron-images', 'png');
    await expect(refused).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.exportFile(sparseId, 'neuron-images', 'svg')).rejects.toThrow(/has no "neuron-images" figure \(only runs on image tasks/);
  });
});
