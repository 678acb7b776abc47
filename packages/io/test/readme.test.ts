import { describeReadmeExamples } from '@aiomisc/test-kit';

describeReadmeExamples(new URL('../README.md', import.meta.url));
