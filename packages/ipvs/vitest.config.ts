import { mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// The two lab files each boot a TCG guest: one at a time is faster on a
// 2-core machine than two guests fighting for it.
export default mergeConfig(sharedConfig, { test: { fileParallelism: false } });
