import { mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// test/lab.test.ts boots a TCG guest: the other files are quick, and running
// them beside it only slows it down on a 2-core machine.
export default mergeConfig(sharedConfig, { test: { fileParallelism: false } });
