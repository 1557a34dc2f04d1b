/** nsfwjs' TF.js models: the library's reader (src/bench/nsfwjs.ts), shared with the benches. */
export { nsfwjsArtifacts } from '../../src/bench/nsfwjs.js';
