// The grid arithmetic every one-thread-per-item kernel shares. Composed first
// (after a `requires` directive, where there is one); kernels whose entry
// point is `main` end with grid_main.wgsl.

override WORKGROUP_SIZE: u32 = 64u;

// The flat index of an invocation in a 2D grid of workgroups: a dispatch of
// more than maxComputeWorkgroupsPerDimension workgroups wraps into y
// (src/gpu/ops/dispatch.ts, dispatch1d).
fn flat_index(id: vec3<u32>, groups: vec3<u32>, workgroup_size: u32) -> u32 {
  return id.x + id.y * groups.x * workgroup_size;
}
