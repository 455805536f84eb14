// Internal to shm/: only shm/*.cc and tests/shm include it.
// Who holds a slot, and whether they are still alive.
//
// A slot's lock word is a LockWord: the Linux thread id (the kernel's per-task
// pid) of its holder in the low 32 bits and the low 32 bits of that thread's
// start time (clock ticks since boot, field 22 of /proc/<tid>/stat) in the
// high 32. Two threads of one worker exclude each other as two worker
// processes do, and a thread id the kernel recycles for an unrelated task
// names a different word: a dead holder cannot be impersonated, so a takeover
// that compares-and-swaps the word it saw dead is free of ABA (only a task
// given the same id within the same clock tick, 10 ms, could collide).
// Thread ids mean something only inside one pid namespace: Segment::attach()
// refuses a read-write attach from another one (shm/segment.h).
//
// owner_id() is cached per thread (refreshed after fork), so the hot path
// makes no syscall; its first call in a thread reads /proc once. owner_alive()
// reads /proc/<tid>/stat (or, without /proc, makes one kill(2)) and is called
// only while waiting for a lock or inspecting the segment. Any thread.
#pragma once

#include <cstdint>
#include <optional>

namespace servertrack::shm {

using LockWord = std::uint64_t;

constexpr std::uint32_t thread_of(LockWord word) noexcept { return static_cast<std::uint32_t>(word); }
constexpr LockWord lock_word(std::uint32_t tid, std::uint64_t start_ticks) noexcept {
  return (start_ticks << 32) | tid;
}

// The calling thread's identity as stored in lock words. Never 0.
LockWord owner_id() noexcept;

// The identity of thread (or process) `tid` now, or nullopt when no such
// task exists or its /proc entry cannot be read.
std::optional<LockWord> identity_of(std::uint32_t tid) noexcept;

// The calling process's id as stored in the process registry.
std::uint32_t process_id() noexcept;

// False when the thread the word names is gone: no task with its id exists,
// it is a zombie (exited, not yet reaped), its id now belongs to a task that
// started at another time (recycled), or the id cannot be a pid at all (0, or
// above INT_MAX: a damaged word).
bool owner_alive(LockWord word) noexcept;

// The same for a process id of the registry (no start time is kept there: a
// recycled pid reads as alive, which only keeps a registry entry longer).
bool process_alive(std::uint32_t pid) noexcept;

// The inode number of the calling process's pid namespace (/proc/self/ns/pid),
// or 0 when it cannot be read.
std::uint64_t pid_namespace() noexcept;

}  // namespace servertrack::shm
