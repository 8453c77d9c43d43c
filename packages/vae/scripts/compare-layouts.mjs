// Why the VAE keeps its activations NHWC: times encode+decode with the NHWC module paths
// against the stock NCHW ones (Conv2d.forward transposes around every tfjs conv) on the active
// backend, for the tiny preset, a mid-size VAE and sd-vae-ft-ema (zero weights: the timing does
// not depend on the values). The NCHW modules are entered through NHWC here, which adds two
// transposes per op that an all-NCHW VAE would not do, so the table also shows an estimate with
// half of the transpose kernel time taken off. Run: node scripts/compare-layouts.mjs (after build).
import { initBackend, nn, tf } from '@mige/core';
import { SD_VAE_FT_EMA, SD_VAE_TINY, createAutoencoderKL } from '@mige/vae';

const info = await initBackend();
const MID = { ...SD_VAE_FT_EMA, blockOutChannels: [64, 128, 256, 256] };
const cases = [['tiny', SD_VAE_TINY, 16], ['tiny', SD_VAE_TINY, 64], ['mid [64,128,256,256]', MID, 128], ['sd-vae-ft-ema', SD_VAE_FT_EMA, 128]];

const nhwc = { conv: nn.Conv2d.prototype.forwardNHWC, norm: nn.GroupNorm.prototype.forwardNHWC };
const toNCHW = (x) => tf.transpose(x, [0, 3, 1, 2]);
const toNHWC = (x) => tf.transpose(x, [0, 2, 3, 1]);
function useNCHWModules(on) {
  nn.Conv2d.prototype.forwardNHWC = on ? function (x) { return tf.tidy(() => toNHWC(this.forward(toNCHW(x)))); } : nhwc.conv;
  nn.GroupNorm.prototype.forwardNHWC = on
    ? function (x) { return x.rank === 4 ? tf.tidy(() => toNHWC(this.forward(toNCHW(x)))) : nhwc.norm.call(this, x); }
    : nhwc.norm;
}

console.log(`backend ${info.name}; median encode+decode time`);
for (const [name, config, px] of cases) {
  const vae = createAutoencoderKL(config);
  const image = tf.zeros([1, 3, px, px]);
  const z = tf.zeros([1, 4, px / vae.downsampleFactor, px / vae.downsampleFactor]);
  const run = () => tf.tidy(() => { vae.encode(image).mean.dataSync(); vae.decode(z).dataSync(); });
  const median = (n) => {
    run();
    const ts = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      run();
      ts.push(performance.now() - t0);
    }
    return ts.sort((a, b) => a - b)[n >> 1];
  };
  const n = px <= 64 ? 9 : 3;
  const ours = median(n);
  useNCHWModules(true);
  const stock = median(n);
  const profile = await tf.profile(() => { run(); return tf.scalar(0); });
  const transposeMs = profile.kernels.filter((k) => k.name === 'Transpose').reduce((s, k) => s + k.kernelTimeMs, 0);
  useNCHWModules(false);
  console.log(
    `${`${name} @ ${px} px`.padEnd(30)} NHWC ${ours.toFixed(0).padStart(6)} ms | NCHW modules ${stock.toFixed(0).padStart(6)} ms ` +
      `(transposes ${transposeMs.toFixed(0)} ms; all-NCHW estimate ${(stock - transposeMs / 2).toFixed(0)} ms)`,
  );
  tf.dispose([image, z]);
  vae.dispose();
}
