// wgsl_reflect's `main` is a CommonJS build inside a package marked
// "type": "module", so importing the bare package in Node yields no named
// exports. Its ES module build works in both hosts but ships no .d.ts of its
// own: this gives it the package's types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
