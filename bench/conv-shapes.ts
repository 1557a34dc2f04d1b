/** The convolution shapes the kernel benches time: a MobileNetV2 at 224x224 and the zoo models' layers. */
import type { SyntheticConv } from '../src/gpu/synthetic-layer.js';

export interface Shape extends SyntheticConv {
  readonly hw: number;
  readonly batch?: number;
}

export const MBV2: Shape[] = [
  { name: 'mbv2 stem 3x3/2 3->32 @224', c: 3, m: 32, hw: 224, k: 3, stride: 2 },
  { name: 'mbv2 1x1 16->96 @112', c: 16, m: 96, hw: 112, k: 1, stride: 1 },
  { name: 'mbv2 1x1 144->24 @56', c: 144, m: 24, hw: 56, k: 1, stride: 1 },
  { name: 'mbv2 1x1 192->32 @28', c: 192, m: 32, hw: 28, k: 1, stride: 1 },
  { name: 'mbv2 1x1 384->64 @14', c: 384, m: 64, hw: 14, k: 1, stride: 1 },
  { name: 'mbv2 1x1 960->320 @7', c: 960, m: 320, hw: 7, k: 1, stride: 1 },
  { name: 'mbv2 dw 3x3 144 @56', c: 144, m: 144, hw: 56, k: 3, stride: 1, depthwise: true },
  { name: 'mbv2 dw 3x3 576 @14', c: 576, m: 576, hw: 14, k: 3, stride: 1, depthwise: true },
];
export const ZOO: Shape[] = [
  { name: 'fashion-vgg 3x3 48->48 @14 x8', c: 48, m: 48, hw: 14, k: 3, stride: 1, batch: 8 },
  { name: 'fashion-vgg 3x3 48->96 @7 x8', c: 48, m: 96, hw: 7, k: 3, stride: 1, batch: 8 },
  { name: 'fashion-resnet 3x3 24->24 @14 x8', c: 24, m: 24, hw: 14, k: 3, stride: 1, batch: 8 },
  { name: 'fashion-mbv3 1x1 96->40 @7 x8', c: 96, m: 40, hw: 7, k: 1, stride: 1, batch: 8 },
];
