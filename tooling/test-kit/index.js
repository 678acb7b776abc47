export { makeCertificates } from './certificates.js';
export { describeReadmeExamples, readmeExamples } from './readme-examples.js';
export { freePort, startRedisServer, waitForPort } from './servers.js';
export { onPath, systemCommand } from './system-command.js';
