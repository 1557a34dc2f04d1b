export { TensorStats, type TensorStatsJSON } from './tensor-stats.js';
export { calibrateRange, validateCalibration, MIN_BITS, MAX_BITS, type CalibrationMethod } from './calibrators.js';
export { saneRange, NEGLIGIBLE_MAGNITUDE, type ClipRange } from './range-rules.js';
export { histogramQuantile, signedCounts } from './percentile.js';
export { entropyThresholdBins } from './entropy.js';
export { mseThreshold } from './mse.js';
export { weightThresholds, type WeightGranularity, type WeightRangeMethod } from './weights.js';
export { statsToFile, statsFromFile, type CalibrationStatsFile } from './stats-file.js';
