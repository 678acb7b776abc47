import { getTsupConfig } from '@aiomisc/tsup-config';

export default getTsupConfig();
