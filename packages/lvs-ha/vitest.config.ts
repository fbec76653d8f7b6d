import { mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// test/lab.test.ts runs lvs-ha in a TCG guest (Node and tsx emulated): the
// other files are quick, and running them beside it only slows it down.
export default mergeConfig(sharedConfig, { test: { fileParallelism: false } });
