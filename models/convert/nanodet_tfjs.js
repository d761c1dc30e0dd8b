// Runs the original NanoDet TF.js graph model (pure-JS CPU backend) on the
// input tensors nanodet_inputs.py wrote, for the faithfulness check of
// models/detector.onnx (models/README.md, "Detector").
//
//   npm install --prefix models/convert/cache/node @tensorflow/tfjs@4
//   NODE_PATH=models/convert/cache/node/node_modules node models/convert/nanodet_tfjs.js \
//       models/convert/cache/package/models/nanodet.json models/convert/cache/faithfulness
//
// For each NAME.input.bin (float32 [1,3,416,416]) it writes NAME.tfjs.bin:
// float32 scores [3549,80] then boxes [3549,44], the anchor points in
// stride order 8, 16, 32 — the layout of the ONNX model's two outputs.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

async function main() {
  const [modelPath, dir] = process.argv.slice(2);
  if (!modelPath || !dir) throw new Error('usage: nanodet_tfjs.js MODEL.json DIR');
  await tf.setBackend('cpu');
  const json = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const bins = json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(path.dirname(modelPath), p)));
  const buf = Buffer.concat(bins);
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const model = await tf.loadGraphModel({
    load: async () => ({ modelTopology: json.modelTopology, weightSpecs: specs, weightData, format: json.format }),
  });
  // Output names by stride: [N,80] scores and [N,44] boxes, biggest N first.
  const outs = Object.entries(json.signature.outputs).map(([name, s]) => ({
    name, n: +s.tensorShape.dim[1].size, ch: +s.tensorShape.dim[2].size,
  }));
  const order = (ch) => outs.filter((o) => o.ch === ch).sort((a, b) => b.n - a.n).map((o) => o.name);
  const names = [...order(80), ...order(44)];
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.input.bin')).sort()) {
    const raw = fs.readFileSync(path.join(dir, f));
    const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const input = tf.tensor(data, [1, 3, 416, 416]);
    const t0 = Date.now();
    const res = await model.executeAsync(input, names);
    const parts = await Promise.all(res.map((r) => r.data()));
    const total = parts.reduce((s, p) => s + p.length, 0);
    const out = new Float32Array(total);
    let off = 0;
    for (const p of parts) { out.set(p, off); off += p.length; }
    fs.writeFileSync(path.join(dir, f.replace('.input.bin', '.tfjs.bin')), Buffer.from(out.buffer));
    console.log(`${f}: ${Date.now() - t0} ms, ${total} values`);
    tf.dispose([input, ...res]);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
