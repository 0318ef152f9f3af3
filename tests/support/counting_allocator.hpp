// ptapi test support: a pass-through counting global allocator (malloc/free underneath).
// Always on: every operator new/delete form updates relaxed atomics; nothing changes behaviour.
// - `live_bytes()`: bytes held now (malloc_usable_size, so slightly above the sizes requested).
// - `counted_allocations()`: allocations made by threads that called `count_this_thread()`.
// Exactly ONE translation unit per executable defines PTAPI_DEFINE_COUNTING_ALLOCATOR before including
// this header: it gets the replacement operators (they replace the global ones for the whole program).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ptapi_test {

namespace detail {
inline std::atomic<std::int64_t> live_bytes{0};
inline std::atomic<std::uint64_t> all_allocations{0};
inline std::atomic<std::uint64_t> counted_allocations{0};
inline thread_local bool count_thread = false;
}  // namespace detail

/// Bytes currently allocated through operator new (whole program).
inline std::int64_t live_bytes() noexcept { return detail::live_bytes.load(std::memory_order_relaxed); }
/// operator new calls so far (whole program).
inline std::uint64_t all_allocations() noexcept { return detail::all_allocations.load(std::memory_order_relaxed); }
/// operator new calls so far on threads marked with `count_this_thread`.
inline std::uint64_t counted_allocations() noexcept {
  return detail::counted_allocations.load(std::memory_order_relaxed);
}
/// Marks (or unmarks) the calling thread: its allocations count in `counted_allocations`. Allocation-free.
inline void count_this_thread(bool on = true) noexcept { detail::count_thread = on; }

}  // namespace ptapi_test

#ifdef PTAPI_DEFINE_COUNTING_ALLOCATOR
#include <malloc.h>

#include <cstdlib>
#include <new>

namespace ptapi_test::detail {
inline void* note_alloc(void* p) noexcept {
  if (p) {
    live_bytes.fetch_add(static_cast<std::int64_t>(::malloc_usable_size(p)), std::memory_order_relaxed);
    all_allocations.fetch_add(1, std::memory_order_relaxed);
    if (count_thread) counted_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  return p;
}
inline void* alloc(std::size_t n, std::size_t align) noexcept {
  if (n == 0) n = 1;
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(n);
  } else if (::posix_memalign(&p, align, n) != 0) {
    p = nullptr;
  }
  return note_alloc(p);
}
inline void* alloc_or_throw(std::size_t n, std::size_t align) {
  for (;;) {
    if (void* p = alloc(n, align)) return p;
    std::new_handler h = std::get_new_handler();
    if (!h) throw std::bad_alloc();
    h();
  }
}
inline void release(void* p) noexcept {
  if (!p) return;
  live_bytes.fetch_sub(static_cast<std::int64_t>(::malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}
constexpr std::size_t plain = alignof(std::max_align_t);
}  // namespace ptapi_test::detail

// NOLINTBEGIN: the replaceable global allocation functions ([new.delete]).
void* operator new(std::size_t n) { return ptapi_test::detail::alloc_or_throw(n, ptapi_test::detail::plain); }
void* operator new[](std::size_t n) { return ptapi_test::detail::alloc_or_throw(n, ptapi_test::detail::plain); }
void* operator new(std::size_t n, std::align_val_t a) {
  return ptapi_test::detail::alloc_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return ptapi_test::detail::alloc_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return ptapi_test::detail::alloc(n, ptapi_test::detail::plain);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return ptapi_test::detail::alloc(n, ptapi_test::detail::plain);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return ptapi_test::detail::alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return ptapi_test::detail::alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { ptapi_test::detail::release(p); }
void operator delete[](void* p) noexcept { ptapi_test::detail::release(p); }
void operator delete(void* p, std::size_t) noexcept { ptapi_test::detail::release(p); }
void operator delete[](void* p, std::size_t) noexcept { ptapi_test::detail::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { ptapi_test::detail::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { ptapi_test::detail::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { ptapi_test::detail::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { ptapi_test::detail::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { ptapi_test::detail::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { ptapi_test::detail::release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { ptapi_test::detail::release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { ptapi_test::detail::release(p); }
// NOLINTEND
#endif
