// Who holds a slot, and whether they are still alive.
//
// A slot's lock word holds the Linux thread id (the kernel's per-task pid) of
// its holder, so two threads of one worker exclude each other as two worker
// processes do. owner_id() is cached per thread (refreshed after fork), so the
// hot path makes no syscall; owner_alive() is one kill(2) plus a read of
// /proc/<id>/stat and is called only while waiting for a lock or inspecting
// the segment.
#pragma once

#include <cstdint>

namespace servertrack::shm {

// The calling thread's id as stored in lock words. Never 0.
std::uint32_t owner_id() noexcept;

// The calling process's id as stored in the process registry.
std::uint32_t process_id() noexcept;

// False only when no process or thread with this id exists (ESRCH), it is
// a zombie (exited, not yet reaped; the check reads /proc/<id>/stat), or the
// id cannot be a pid at all (0, or above INT_MAX: a damaged lock word).
// A recycled id reads as alive: the holder is then waited for, never robbed.
bool owner_alive(std::uint32_t id) noexcept;

}  // namespace servertrack::shm
