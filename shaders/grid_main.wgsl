// The entry point of a one-thread-per-item kernel (composed last): the kernel
// defines how many items there are, `item_count()`, and what one invocation
// does, `item(i)`. A grid wider than maxComputeWorkgroupsPerDimension wraps
// into y (grid.wgsl, flat_index); the surplus invocations of the last
// workgroups do nothing.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(id, groups, WORKGROUP_SIZE);
  if (i < item_count()) {
    item(i);
  }
}
