import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// One test file at a time: the interop suites time real daemons' deadtimes,
// which CPU-heavy property tests running beside them on 2 cores would skew.
export default mergeConfig(sharedConfig, defineConfig({ test: { fileParallelism: false } }));
