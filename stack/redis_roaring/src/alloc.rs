//! CRoaring's allocations go straight to Redis' allocator, so the sets count in used_memory and maxmemory.
//!
//! Straight, without the size header croaring's own hooks (`configure_rust_alloc`) put before each block: jemalloc
//! rounds a request up to its next size class, so 8 bytes more on an 8 KB bitset or a full array container cost a
//! 10 KB block.

use std::os::raw::c_void;

use redis_module::raw;

unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    raw::RedisModule_Alloc.expect("Redis' allocator")(size)
}

unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    raw::RedisModule_Calloc.expect("Redis' allocator")(count, size)
}

unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    raw::RedisModule_Realloc.expect("Redis' allocator")(ptr, size)
}

unsafe extern "C" fn free(ptr: *mut c_void) {
    raw::RedisModule_Free.expect("Redis' allocator")(ptr)
}

/// jemalloc places a block whose size is a multiple of a power of two (here the alignment, 32 or 64 for SIMD) at a
/// multiple of it; redis_module::alloc::RedisAlloc relies on the same rule.
unsafe extern "C" fn aligned_malloc(align: usize, size: usize) -> *mut c_void {
    match size.checked_next_multiple_of(align) {
        Some(rounded) => malloc(rounded),
        None => std::ptr::null_mut(),
    }
}

/// Installs the hooks; before any CRoaring allocation (the module's load, which comes before Redis loads data).
pub fn use_redis_allocator() {
    let hooks = croaring_sys::roaring_memory_t {
        malloc: Some(malloc),
        realloc: Some(realloc),
        calloc: Some(calloc),
        free: Some(free),
        aligned_malloc: Some(aligned_malloc),
        aligned_free: Some(free),
    };
    // SAFETY: called once at load, while no CRoaring object exists.
    unsafe { croaring_sys::roaring_init_memory_hook(hooks) };
}
