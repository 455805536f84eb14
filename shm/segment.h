// Public: used by the workers and shmtool; with shm/name.h, shm/invariants.h
// and shm/slot_check.h the only shm/ headers they include (it brings the
// public data headers shm/layout.h, shm/server_data.h and shm/window.h). The shared segment: create or attach,
// record a sample, take a snapshot, and what shmtool needs to inspect and
// rebuild one. The lock and sequence protocol stays inside shm/.
//
// One Segment object per process (or per thread; it is a cheap view). create()
// and attach() are cold paths and throw SegmentError, whose kind and message
// say what is wrong; the caller adds what to do about it (shmtool and the
// workers: common/segment_advice.h). record() and snapshot() are the hot paths: no
// allocation, no syscall, no lock shared with readers; they return a Status.
//
// Thread safety: record() and snapshot() may be called concurrently from any
// thread of any attached process. The same object must not be moved or
// destroyed while another thread uses it.
#pragma once

#include <sys/types.h>

#include <boost/interprocess/mapped_region.hpp>
#include <atomic>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "shm/layout.h"
#include "shm/server_data.h"
#include "shm/window.h"

namespace servertrack::shm {

struct Table;  // shm/table.h, internal

// The largest cpu or ram value record() accepts, 10^kMaxSampleExponent, and
// how every message writes it ("1e15"). A bucket counts at most 2^32
// samples, so no sum of accepted values can overflow to infinity.
inline constexpr int kMaxSampleExponent = 15;
inline constexpr double kMaxSampleValue = [] {
  double value = 1;  // exact: every power of ten up to 1e22 is a double
  for (int i = 0; i < kMaxSampleExponent; ++i) value *= 10;
  return value;
}();
inline const std::string kMaxSampleValueText = "1e" + std::to_string(kMaxSampleExponent);

enum class Status {
  ok,
  invalid_name,    // breaks the name rule (shm/name.h)
  invalid_value,   // cpu or ram not a number from 0 to kMaxSampleValue, neither metric
                   // given, or a negative time
  time_in_future,  // a sample time more than kClockSlack after now (or after kMaxSampleTime)
  time_too_old,    // a sample time before oldest_sample_time(now, days()): the 24-hour
                   // window, or the day window when it reaches further back
  repeat,          // a stated-time sample already counted (the retry rule,
                   // shm/slot.h): acknowledged, not added again
  bucket_full,     // its minute already counts kMaxMinuteCount samples of a metric
                   // it carries: refused, nothing written (retry in the next minute)
  not_found,       // no such server: never recorded, deleted, or expired
  table_full,     // a new name and no free slot; existing names keep working
  busy,           // the slot stayed mid-write or locked too long (a dead writer
                  // a read-only attach may not repair, a stopped writer, damage):
                  // transient unless the segment is damaged
  read_only,      // record() on a read-only attach
  moved,          // writes are frozen while a grow step copies the segment, or a larger
                  // one replaced it under its name (shm/grow.h): nothing written; the
                  // worker's successor attaches the new one (transient, like busy)
};

// A short English description of a status, for logs and error bodies: what
// happened, not what to do (common/segment_advice.h adds that).
const char* describe(Status status) noexcept;

// What create() or attach() found wrong, as facts: the message says what and
// where, never what to do about it (the caller knows who reads it and adds the
// remedy: common/segment_advice.h).
class SegmentError : public std::runtime_error {
 public:
  enum class Kind {
    absent,           // no such segment
    exists,           // create(): one is there already
    incompatible,     // not one this build can use: other layout, damaged, or capacity
                      // not the one expected (then capacity_found() says the segment's)
    other_namespace,  // a read-write attach from a pid namespace other than the creator's
    no_space,         // create(): /dev/shm cannot hold it
    system,           // anything else the system refused
  };
  SegmentError(Kind kind, std::string segment, const std::string& message, std::uint64_t capacity_found = 0)
      : std::runtime_error(message), kind_(kind), segment_(std::move(segment)), capacity_found_(capacity_found) {}
  Kind kind() const noexcept { return kind_; }
  // The segment's name.
  const std::string& segment() const noexcept { return segment_; }
  // Kind::incompatible because the capacity is not the expected one: the
  // segment's own capacity; otherwise 0.
  std::uint64_t capacity_found() const noexcept { return capacity_found_; }

 private:
  Kind kind_;
  std::string segment_;
  std::uint64_t capacity_found_;
};

enum class Access { read_write, read_only };

// alert: servertrack-alert (alert/), attached read-only like a query worker.
enum class ProcessKind : std::uint32_t { unknown = 0, ingest = 1, query = 2, tool = 3, alert = 4 };
const char* describe(ProcessKind kind) noexcept;

// The segment has no defaults of its own: callers pass a name and capacity
// (the programs' defaults are in common/defaults.ini).
struct CreateOptions {
  std::string name;
  std::uint64_t capacity = 0;  // slots, 1 to 2^32
  int days = -1;               // UTC days of the day window, 0 (none) to kMaxDays; required
  mode_t mode = 0660;
  std::int64_t created_unix = 0;  // 0: the current time
  bool huge_pages = true;         // back it with 2 MiB pages (shm/huge_pages.h)
};

struct AttachOptions {
  std::string name;
  Access access = Access::read_write;
  std::uint64_t expected_capacity = 0;  // 0: accept the segment's own capacity
};

// A process in the segment's registry (Header::processes), for `shmtool info`
// and the checks before `shmtool remove` and `restore`.
struct RegisteredProcess {
  std::uint32_t pid;
  ProcessKind kind;
  std::int64_t start_unix;
  bool alive;  // the pid exists (a recycled pid reads as alive: shm/owner.h)
};

// What a slot's lock word names (shm/owner.h): a thread id and the low 32 bits
// of that thread's start time, and whether that very thread is still alive.
struct LockHolder {
  std::uint32_t thread;
  std::uint64_t start_tick;
  bool alive;
};

// How a slot's fingerprint stands against the table's rule (shm/table.h):
// what is stored, what the slot's state and name hash call for, and the fault.
struct FingerprintCheck {
  enum class Fault {
    none,
    on_never_used,    // a slot that never held a name has one
    on_deleted,       // a deleted server's slot is not marked retired
    missing,          // a published name has none (0)
    still_retired,    // a published name's slot is still marked retired
    wrong,            // a published name's is not its name hash's
  } fault;
  std::uint32_t stored;
  std::uint32_t expected;
};

// One published server, as the table walk yields it. `name` is a copy that
// lives until the visit returns (a slot may be reused for another name).
// `marker` is the slot's change marker: its sequence word, which every write,
// claim and delete of the slot moves, read before the name and again after
// it. Equal markers of one slot in two walks of one segment mean the slot
// held the same server with the same data at both (an odd marker: it was
// being written, or changed while its name was read; it equals no later one).
struct ServerEntry {
  std::string_view name;
  std::uint64_t slot_index;
  Slot* slot;
  std::int64_t last_sample_unix;
  std::uint32_t marker;
};

// What the header says (shm/layout.h, Header and Counters), as values: for
// `shmtool info`, `create` and `dump`, and the workers' /metrics.
struct SegmentFacts {
  std::uint32_t layout_version;
  std::uint32_t header_size;
  std::uint64_t capacity;
  std::uint32_t slot_size;
  std::uint32_t mode;
  std::int64_t created_unix;
  int days;
  std::uint64_t used_slots;  // the hint (shm/table.h), not a count
  std::uint64_t samples_recorded;
  std::uint64_t lock_takeovers;
  std::uint64_t table_full_rejections;
};

// What Segment::repair_slot() did to one slot.
struct SlotRepair {
  bool took_over_lock = false;  // its holder was dead: the lock was taken over (a half write undone)
  std::optional<std::uint32_t> fingerprint_was;  // set when the fingerprint was corrected (from this)
  std::uint32_t fingerprint_now = 0;
  bool busy = false;  // a live holder kept the lock: nothing was done
};

class Segment {
 public:
  // Creates a new segment (fails with Kind::exists if one is there), reserves
  // its memory (in 2 MiB pages when it can and options.huge_pages), and
  // publishes it by writing the layout version last.
  static Segment create(const CreateOptions& options);
  // Maps an existing segment after validating magic, version, slot size,
  // capacity and object size. What it validated (capacity, where the slots
  // start) is kept in the object, never read from shared memory again. A
  // read-write attach from a pid namespace other than the creator's is
  // refused: lock words name thread ids of the creator's namespace.
  static Segment attach(const AttachOptions& options);
  // Deletes the shared-memory object; mapped views stay valid until unmapped.
  static bool remove(const std::string& name) noexcept;
  // Where the object lives in the file system, e.g. /dev/shm/servertrack.
  static std::string path_of(const std::string& name);

  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  // Records `sample` (see write_sample()) for a writer whose clock reads
  // `now`. Its time must lie between oldest_sample_time(now, days()) and
  // now + kClockSlack. Returns ok, or repeat for a stated-time
  // sample already counted, or bucket_full. A record racing a forget() of the same name ends
  // with the server deleted (the sample went in first) or created anew
  // holding just this sample, never in a slot holding half of either.
  Status record(std::string_view name, const SampleValue& sample, std::int64_t now) noexcept;
  // The same for a sample that arrived at `now`, without a stated time.
  Status record(std::string_view name, double cpu, double ram, std::int64_t now) noexcept;
  // not_found also for a server deleted or expired at `now`.
  Status snapshot(std::string_view name, std::int64_t now, Snapshot& out) noexcept;
  // Deletes a server: ok, or not_found when there is none live at `now` (an
  // expired one is deleted too). Its slot is then free for a new name.
  Status forget(std::string_view name, std::int64_t now) noexcept;

  // Calls visit(const ServerEntry&) for every published slot, in slot order;
  // with `live_at`, only for servers not expired at that time.
  // One indirect call per published slot, beside that slot's cache misses.
  template <class Visit>
  void for_each_server(Visit&& visit, std::optional<std::int64_t> live_at = std::nullopt) const {
    using Target = std::remove_reference_t<Visit>;
    visit_servers(live_at, [](void* target, const ServerEntry& entry) { (*static_cast<Target*>(target))(entry); },
                  const_cast<void*>(static_cast<const void*>(&visit)));
  }

  // A consistent copy of one slot's data: busy when a write stayed in the
  // way (a dead writer's odd sequence word on a read-only attach, or damage).
  Status copy_slot(Slot& slot, SlotCopy& out) noexcept;
  // Slot `index`'s data as it lies, consistent or not, with an empty name:
  // for `shmtool check` to judge a slot copy_slot() answers busy for.
  void copy_slot_as_is(std::uint64_t index, SlotCopy& out) const noexcept;
  // Only the newest sample's time and its minute, and whether the slot still
  // holds server `name`.
  Status copy_latest_minute(Slot& slot, std::string_view name, LatestMinute& out) noexcept;
  // Gives server `name` (valid) a slot holding `data`'s buckets, retry marks
  // and last sample time, as `shmtool restore` rebuilds a segment; meant for a
  // fresh segment no worker uses yet (a claim judges no server expired).
  // table_full when no slot is free.
  Status restore_server(std::string_view name, const SlotCopy& data) noexcept;

  // The segment's checkpoint identity (shm/layout.h, Header::checkpoint_id):
  // drawn at random on its first call with a read-write attach (one CAS; every
  // later call, from any process, answers the same), 0 on a read-only attach
  // before that. A segment created anew or restored has a new one.
  std::uint64_t checkpoint_id() noexcept;

  // Servers not expired at `now`, counted by reading every slot (O(capacity)).
  std::uint64_t count_live_servers(std::int64_t now) const noexcept;
  // The same count, also stored in the used_slots hint (shm/layout.h, Counters).
  std::uint64_t recount_used_slots(std::int64_t now) noexcept;

  // Who holds slot `index`'s lock; nullopt when it is free.
  std::optional<LockHolder> lock_holder(std::uint64_t index) const noexcept;
  // True when slot `index` was left mid-write by a writer that died: its lock
  // word names a dead thread and its sequence word is odd.
  bool left_mid_write(std::uint64_t index) const noexcept;
  // Slot `index`'s fingerprint against the table's rule.
  FingerprintCheck check_fingerprint(std::uint64_t index) const noexcept;
  // Puts slot `index` right now instead of when a later claim, write or read
  // happens to meet it (`shmtool check --repair`): a lock held by a dead
  // thread is taken over (lock_slot(), which repairs a write it left half
  // done), and under the slot's lock a fingerprint that disagrees with the
  // slot's state is corrected as a claim would (a deleted slot's to retired,
  // a published one's to its name's; one on a never used slot is left for
  // check to report). Safe beside live workers: a live holder is never robbed
  // (busy after kLockPatience). Read-write attach only; O(1).
  SlotRepair repair_slot(std::uint64_t index) noexcept;

  // Growing (shm/grow.h has the whole protocol). freeze_writes() makes every
  // later record() and forget() of any process answer `moved` and waits until
  // no live writer holds a slot's lock, so that a copy taken next holds every
  // acknowledged sample; false (and nothing frozen) when another grow step
  // holds the freeze or a writer kept a lock for `patience_ms`. thaw_writes()
  // undoes it; mark_superseded() ends it for good once the copy is published
  // under this segment's name. Read-write attach; O(capacity) for the wait.
  enum class WriteState {
    open,
    frozen,              // a live grow step is copying the segment
    frozen_by_dead_step, // a grow step died while copying: the next write lifts the freeze
    replaced,            // a larger segment took its name (or its step died after publishing it)
  };
  WriteState write_state() const noexcept;
  static const char* describe(WriteState state) noexcept;
  bool freeze_writes(int patience_ms) noexcept;
  void thaw_writes() noexcept;
  void mark_superseded() noexcept;
  bool superseded() const noexcept;
  // Slot `index`'s sequence word (bumped by every write and claim) and
  // whether it holds a published server: what a grow's second pass compares.
  std::uint32_t slot_sequence(std::uint64_t index) const noexcept;
  bool slot_published(std::uint64_t index) const noexcept;
  // Whether `path_of(name())` is still this very object (not replaced).
  bool still_named() const noexcept;

  // Records this process in the header's registry until the Segment is
  // destroyed. Returns false when the registry is full (64 live processes).
  bool register_process(ProcessKind kind, std::int64_t now);
  // Every registry entry with a pid, in registry order, dead ones included.
  // One liveness probe (kill(2), /proc) per entry.
  std::vector<RegisteredProcess> registered_processes() const;

  // What the header says and its counters, as values (relaxed loads).
  SegmentFacts facts() const noexcept;
  // The bytes of one slot: slot_bytes(days()).
  std::uint64_t slot_size() const noexcept { return slot_size_; }
  std::uint64_t capacity() const noexcept { return capacity_; }
  // The UTC days of the day window (CreateOptions::days): 0 = no day window.
  int days() const noexcept { return days_; }
  const std::string& name() const noexcept { return name_; }
  // After create(): the pages backing it, e.g. "2 MiB pages"; empty after attach().
  const std::string& pages() const noexcept { return pages_; }
  Access access() const noexcept { return access_; }

 private:
  // The raw words, for shm/'s own files and tests through SegmentInternals
  // (shm/segment_internals.h): nobody else reads or writes them.
  friend struct SegmentInternals;
  Header& header() const noexcept { return *header_; }
  Slot& slot(std::uint64_t index) const noexcept { return *reinterpret_cast<Slot*>(slots_ + index * slot_size_); }
  Fingerprint& fingerprint(std::uint64_t index) const noexcept { return fingerprints_[index]; }
  Table table() const noexcept;

  Segment(std::string name, Access access, boost::interprocess::mapped_region region, std::uint64_t capacity,
          int days);
  void unregister_process() noexcept;
  void identify(int fd) noexcept;  // records the mapped object's device and inode
  void visit_servers(std::optional<std::int64_t> live_at, void (*visit)(void*, const ServerEntry&),
                     void* target) const;
  // True at most once a second per object, or when a server the last recount
  // counted live has expired at `now` (its slot may be free): a full table's
  // recount reads every slot, so a client posting new names to it cannot make
  // each POST pay for one.
  bool recount_due(std::int64_t now) noexcept;
  // Called by a writer holding a slot's lock: true when writes are frozen or
  // moved (shm/grow.h). A freeze left by a grow step that died is lifted
  // here while this segment still holds its name.
  bool writes_moved() noexcept;

  std::string name_;
  std::string pages_;
  Access access_ = Access::read_only;
  boost::interprocess::mapped_region region_;
  Header* header_ = nullptr;
  Fingerprint* fingerprints_ = nullptr;
  char* slots_ = nullptr;  // slot i at slots_ + i * slot_size_
  std::uint64_t capacity_ = 0;
  int days_ = 0;
  std::uint64_t slot_size_ = 0;
  int registry_index_ = -1;
  std::uint64_t device_ = 0, inode_ = 0;  // of the object mapped, for still_named()
  std::atomic<std::int64_t> last_recount_ms_{0};  // steady clock; 0 = never
  std::atomic<std::int64_t> next_expiry_{0};      // wall clock: see recount_due()
};

}  // namespace servertrack::shm
