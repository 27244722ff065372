/** Entry of the loader page's inline script (see loader.ts). */
import { startLoader } from './loader.ts';

startLoader();
