import { describeReadmeExamples } from '@aiomisc/test-kit';

// Every ```ts example of the README is type-checked and run with Node 20 (through tsx).
describeReadmeExamples(new URL('../README.md', import.meta.url));
