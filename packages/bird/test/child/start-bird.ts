// Starts BIRD under the supervisor and idles: the test SIGKILLs this process
// and checks that BIRD goes with it (setpriv --pdeathsig).
import { BirdProcess } from '../../src/index.js';

const [config, socket, ns] = process.argv.slice(2) as [string, string, string];
const bird = await BirdProcess.start({ config, socket, wrap: ['ip', 'netns', 'exec', ns] });
process.stdout.write(`${bird.pid}\n`);
setInterval(() => {}, 60_000);
