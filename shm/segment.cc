#include "shm/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/statvfs.h>

#include <boost/interprocess/shared_memory_object.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <utility>

#include "shm/huge_pages.h"
#include "shm/name.h"
#include "shm/owner.h"
#include "shm/slot.h"
#include "shm/snapshot_fill.h"
#include "shm/table.h"

namespace servertrack::shm {
namespace bip = boost::interprocess;
namespace {

constexpr auto relaxed = std::memory_order_relaxed;

// Maps `bytes` of the object starting 2 MiB aligned when it can, so pages the
// creator made huge are mapped 2 MiB at a time (shm/huge_pages.h).
bip::mapped_region map_object(const bip::shared_memory_object& object, bip::mode_t mode, std::uint64_t bytes) {
  void* at = reserve_huge_aligned(bytes);
  if (at == nullptr) return bip::mapped_region(object, mode, 0, bytes);
  try {
    return bip::mapped_region(object, mode, 0, bytes, at, MAP_FIXED);
  } catch (...) {
    ::munmap(at, bytes);
    throw;
  }
}

std::string hex(std::uint64_t value) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(value));
  return buf;
}

[[noreturn]] void refuse(const std::string& name, const std::string& what, std::uint64_t capacity_found = 0) {
  throw SegmentError(SegmentError::Kind::incompatible, name, "segment '" + name + "' " + what, capacity_found);
}

// The free bytes of the file system holding shared memory, for error messages.
std::string free_space_note() {
  struct statvfs vfs {};
  if (::statvfs("/dev/shm", &vfs) != 0) return "";
  const double free_mib = static_cast<double>(vfs.f_bavail) * vfs.f_frsize / (1 << 20);
  return " (/dev/shm has " + std::to_string(static_cast<long long>(free_mib)) + " MiB free)";
}

void validate(const std::string& name, const Header& h, std::uint64_t object_size,
              std::uint64_t expected_capacity) {
  if (object_size < sizeof(Header)) {
    refuse(name, "is " + std::to_string(object_size) + " bytes, smaller than its " +
                     std::to_string(sizeof(Header)) + "-byte header: truncated, or not a ServerTrack segment");
  }
  if (h.magic != kMagic) {
    refuse(name, "is not a ServerTrack segment (magic " + hex(h.magic) + ", expected " + hex(kMagic) + ")");
  }
  const std::uint32_t version = h.layout_version.load(std::memory_order_acquire);
  if (version == 0) {
    refuse(name, "is not ready (layout version 0): its creator is still writing it, or died doing so");
  }
  if (version != kLayoutVersion) {
    refuse(name, "has layout version " + std::to_string(version) + ", this build reads version " +
                     std::to_string(kLayoutVersion));
  }
  if (h.days > static_cast<std::uint32_t>(kMaxDays)) {
    refuse(name, "keeps " + std::to_string(h.days) + " days, more than the " + std::to_string(kMaxDays) +
                     " this build can: damaged header");
  }
  const int days = static_cast<int>(h.days);
  if (h.slot_size != slot_bytes(days) || h.header_size != sizeof(Header)) {
    refuse(name, "has slot size " + std::to_string(h.slot_size) + " and header size " +
                     std::to_string(h.header_size) + ", this build uses " + std::to_string(slot_bytes(days)) +
                     " (with " + std::to_string(days) + " days) and " + std::to_string(sizeof(Header)));
  }
  if (h.capacity == 0 || h.capacity > (object_size - sizeof(Header)) / slot_bytes(days) ||
      object_size != segment_bytes(h.capacity, days)) {
    refuse(name, "is " + std::to_string(object_size) + " bytes but its header's capacity " +
                     std::to_string(h.capacity) + " needs " + std::to_string(segment_bytes(h.capacity, days)) +
                     ": truncated or damaged");
  }
  if (h.slots_offset != slots_offset(h.capacity)) {
    refuse(name, "places its slots at byte " + std::to_string(h.slots_offset) + ", but capacity " +
                     std::to_string(h.capacity) + " puts them at " + std::to_string(slots_offset(h.capacity)) +
                     ": damaged header");
  }
  if (expected_capacity != 0 && h.capacity != expected_capacity) {
    refuse(name, "has capacity " + std::to_string(h.capacity) + ", expected " + std::to_string(expected_capacity),
           h.capacity);
  }
}

}  // namespace

const char* describe(Status status) noexcept {
  switch (status) {
    case Status::ok: return "ok";
    case Status::invalid_name: {
      static const std::string message = std::string("the server name must be ") + kNameRule;
      return message.c_str();
    }
    case Status::invalid_value: {
      static const std::string message =
          "cpu and ram must be numbers from 0 to " + kMaxSampleValueText + ", and a sample must carry one";
      return message.c_str();
    }
    case Status::time_in_future: {
      static const std::string message =
          "the sample's time is more than " + std::to_string(kClockSlack) + " s after the appliance's clock";
      return message.c_str();
    }
    case Status::time_too_old:
      return "the sample's time is older than the segment's windows (24 hours, or its days); it can no longer be "
             "counted";
    case Status::repeat: return "a sample with this time was already counted";
    case Status::not_found:
      return "no such server: never recorded, deleted, or silent longer than its windows (24 hours, or the days)";
    case Status::bucket_full: return "this minute already counts 65,535 samples of this server's metric";
    case Status::table_full: return "the segment has no free slot for a new server; existing servers keep working";
    case Status::busy:
      return "the server's slot is held by a writer that makes no progress (a crashed or stopped writer, or a "
             "damaged segment)";
    case Status::read_only: return "the segment is attached read-only";
    case Status::moved:
      return "the segment is being grown (its writes are frozen while it is copied) or a larger one has "
             "replaced it";
  }
  return "unknown status";
}

const char* describe(ProcessKind kind) noexcept {
  switch (kind) {
    case ProcessKind::ingest: return "ingest";
    case ProcessKind::query: return "query";
    case ProcessKind::tool: return "tool";
    case ProcessKind::alert: return "alert";
    case ProcessKind::unknown: break;
  }
  return "unknown";
}

std::string Segment::path_of(const std::string& name) { return "/dev/shm/" + name; }

Segment Segment::create(const CreateOptions& options) {
  if (options.capacity == 0 || options.capacity > (std::uint64_t{1} << 32)) {
    throw SegmentError(SegmentError::Kind::system, options.name, "capacity must be between 1 and 4294967296 servers");
  }
  if (options.days < 0 || options.days > kMaxDays) {
    throw SegmentError(SegmentError::Kind::system, options.name,
                       "days must be between 0 and " + std::to_string(kMaxDays));
  }
  const std::size_t bytes = segment_bytes(options.capacity, options.days);
  bip::permissions perms(options.mode);
  bip::shared_memory_object object;
  try {
    object = bip::shared_memory_object(bip::create_only, options.name.c_str(), bip::read_write, perms);
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::already_exists_error) {
      throw SegmentError(SegmentError::Kind::exists, options.name,
                         "segment '" + options.name + "' already exists at " + path_of(options.name));
    }
    throw SegmentError(SegmentError::Kind::system, options.name,
                       "cannot create segment '" + options.name + "': " + e.what());
  }
  // Reserve every page now, so a too-small /dev/shm fails here and not with a
  // SIGBUS in a worker later.
  const int fd = object.get_mapping_handle().handle;
  const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (err != 0) {
    bip::shared_memory_object::remove(options.name.c_str());
    throw SegmentError(SegmentError::Kind::no_space, options.name,
                       "cannot reserve " + std::to_string(bytes >> 20) + " MiB for segment '" + options.name +
                           "' of capacity " + std::to_string(options.capacity) + ": " + std::strerror(err) +
                           free_space_note());
  }
  bip::mapped_region region = map_object(object, bip::read_write, bytes);
  const std::string pages = options.huge_pages ? back_with_huge_pages(region.get_address(), bytes)
                                               : std::string("4 KiB pages (as asked)");
  auto* h = static_cast<Header*>(region.get_address());
  h->magic = kMagic;
  h->header_size = sizeof(Header);
  h->capacity = options.capacity;
  h->slot_size = static_cast<std::uint32_t>(slot_bytes(options.days));
  h->days = static_cast<std::uint32_t>(options.days);
  h->mode = static_cast<std::uint32_t>(options.mode);
  h->created_unix = options.created_unix != 0 ? options.created_unix : std::time(nullptr);
  h->slots_offset = slots_offset(options.capacity);
  h->pid_namespace = pid_namespace();
  h->layout_version.store(kLayoutVersion, std::memory_order_release);  // last: now ready
  Segment created(options.name, Access::read_write, std::move(region), options.capacity, options.days);
  created.pages_ = pages;
  created.identify(fd);
  return created;
}

Segment Segment::attach(const AttachOptions& options) {
  const auto mode = options.access == Access::read_write ? bip::read_write : bip::read_only;
  bip::shared_memory_object object;
  try {
    object = bip::shared_memory_object(bip::open_only, options.name.c_str(), mode);
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::not_found_error) {
      throw SegmentError(SegmentError::Kind::absent, options.name,
                         "segment '" + options.name + "' does not exist (" + path_of(options.name) + ")");
    }
    throw SegmentError(SegmentError::Kind::system, options.name,
                       "cannot open segment '" + options.name + "': " + e.what());
  }
  bip::offset_t size = 0;
  object.get_size(size);
  if (static_cast<std::uint64_t>(size) < sizeof(Header)) {
    validate(options.name, Header{}, static_cast<std::uint64_t>(size), 0);
  }
  bip::mapped_region region = map_object(object, mode, static_cast<std::uint64_t>(size));
  const auto& header = *static_cast<const Header*>(region.get_address());
  validate(options.name, header, static_cast<std::uint64_t>(size), options.expected_capacity);
  const std::uint64_t ours = pid_namespace();
  if (options.access == Access::read_write && header.pid_namespace != 0 && ours != 0 &&
      header.pid_namespace != ours) {
    throw SegmentError(SegmentError::Kind::other_namespace, options.name,
                       "segment '" + options.name + "' was created in another pid namespace (pid:[" +
                           std::to_string(header.pid_namespace) + "], this process is in pid:[" +
                           std::to_string(ours) +
                           "]): its locks name thread ids of that namespace, so it can be written only from "
                           "there");
  }
  const std::uint64_t capacity = header.capacity;  // validated: from here on never re-read
  const int days = static_cast<int>(header.days);   // likewise
  Segment attached(options.name, options.access, std::move(region), capacity, days);
  attached.identify(object.get_mapping_handle().handle);
  return attached;
}

void Segment::identify(int fd) noexcept {
  struct stat object {};
  if (::fstat(fd, &object) == 0) {
    device_ = object.st_dev;
    inode_ = object.st_ino;
  }
}

bool Segment::remove(const std::string& name) noexcept {
  return bip::shared_memory_object::remove(name.c_str());
}

Segment::Segment(std::string name, Access access, bip::mapped_region region, std::uint64_t capacity, int days)
    : name_(std::move(name)),
      access_(access),
      region_(std::move(region)),
      header_(static_cast<Header*>(region_.get_address())),
      fingerprints_(reinterpret_cast<Fingerprint*>(static_cast<char*>(region_.get_address()) + sizeof(Header))),
      slots_(static_cast<char*>(region_.get_address()) + slots_offset(capacity)),
      capacity_(capacity),
      days_(days),
      slot_size_(slot_bytes(days)) {}

Segment::Segment(Segment&& other) noexcept
    : name_(std::move(other.name_)),
      pages_(std::move(other.pages_)),
      access_(other.access_),
      region_(std::move(other.region_)),
      header_(std::exchange(other.header_, nullptr)),
      fingerprints_(std::exchange(other.fingerprints_, nullptr)),
      slots_(std::exchange(other.slots_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      days_(std::exchange(other.days_, 0)),
      slot_size_(std::exchange(other.slot_size_, 0)),
      registry_index_(std::exchange(other.registry_index_, -1)),
      device_(other.device_),
      inode_(other.inode_),
      last_recount_ms_(other.last_recount_ms_.load(relaxed)),
      next_expiry_(other.next_expiry_.load(relaxed)) {}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    unregister_process();
    name_ = std::move(other.name_);
    pages_ = std::move(other.pages_);
    access_ = other.access_;
    region_ = std::move(other.region_);
    header_ = std::exchange(other.header_, nullptr);
    fingerprints_ = std::exchange(other.fingerprints_, nullptr);
    slots_ = std::exchange(other.slots_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    days_ = std::exchange(other.days_, 0);
    slot_size_ = std::exchange(other.slot_size_, 0);
    registry_index_ = std::exchange(other.registry_index_, -1);
    device_ = other.device_;
    inode_ = other.inode_;
    last_recount_ms_.store(other.last_recount_ms_.load(relaxed), relaxed);
    next_expiry_.store(other.next_expiry_.load(relaxed), relaxed);
  }
  return *this;
}

Segment::~Segment() { unregister_process(); }

Status Segment::record(std::string_view name, double cpu, double ram, std::int64_t now) noexcept {
  return record(name, SampleValue{cpu, ram, now}, now);
}

Status Segment::record(std::string_view name, const SampleValue& sample, std::int64_t now) noexcept {
  if (!is_valid_name(name)) return Status::invalid_name;
  const auto in_range = [](double value) { return value >= 0 && value <= kMaxSampleValue; };
  if (!((sample.has_cpu || sample.has_ram) && (!sample.has_cpu || in_range(sample.cpu)) &&
        (!sample.has_ram || in_range(sample.ram)) && now >= 0 && now <= kMaxSampleTime && sample.time >= 0 &&
        sample.millis < 1000)) {
    return Status::invalid_value;
  }
  if (sample.time > now + kClockSlack || sample.time > kMaxSampleTime) return Status::time_in_future;
  if (sample.time < oldest_sample_time(now, days_)) return Status::time_too_old;
  if (access_ != Access::read_write) return Status::read_only;
  Counters& counters = header_->counters;
  Table table = this->table();
  const std::uint64_t hash = hash_name(name);
  const SlotUse use{SlotUse::sample, sample.time, name.size()};
  // A slot found may be deleted or reused before its lock is ours: look again.
  constexpr int kAttempts = 4;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Slot* slot = table.find(name, hash, use);
    if (slot == nullptr) {
      // used_slots is a hint (shm/table.h): recount before believing "full".
      if (counters.used_slots.load(relaxed) >= capacity_ &&
          (!recount_due(now) || recount_used_slots(now) >= capacity_)) {
        counters.table_full_rejections.fetch_add(1, relaxed);
        return Status::table_full;
      }
      bool busy = false;
      slot = table.find_or_claim(name, hash, use, now, &busy);
      if (slot == nullptr) return busy ? Status::busy : Status::table_full;
    }
    if (lock_slot(*slot, days_, counters) == LockResult::busy) return Status::busy;
    if (!slot_holds(*slot, name, hash)) {
      unlock_slot(*slot);
      continue;
    }
    if (writes_moved()) {
      unlock_slot(*slot);
      return Status::moved;
    }
    const WriteResult written = write_sample(*slot, days_, sample, now);
    unlock_slot(*slot);
    if (written == WriteResult::repeat) return Status::repeat;
    if (written == WriteResult::full) return Status::bucket_full;
    counters.samples_recorded.fetch_add(1, relaxed);
    return Status::ok;
  }
  return Status::busy;
}

Status Segment::copy_slot(Slot& slot, SlotCopy& out) noexcept {
  const bool may_repair = access_ == Access::read_write;
  return read_slot(slot, days_, out, header_->counters, may_repair) == ReadResult::ok ? Status::ok : Status::busy;
}

void Segment::copy_slot_as_is(std::uint64_t index, SlotCopy& out) const noexcept {
  copy_data_as_is(slot(index), days_, out);
}

Status Segment::restore_server(std::string_view name, const SlotCopy& data) noexcept {
  if (!is_valid_name(name)) return Status::invalid_name;
  if (access_ != Access::read_write) return Status::read_only;
  // Judged at time 0, no server restored so far counts as expired and is reused.
  bool busy = false;
  Slot* slot = table().find_or_claim(name, hash_name(name), {SlotUse::whole}, 0, &busy);
  if (slot == nullptr) return busy ? Status::busy : Status::table_full;
  if (lock_slot(*slot, days_, header_->counters) == LockResult::busy) return Status::busy;
  store_data(*slot, days_, data);
  unlock_slot(*slot);
  return Status::ok;
}

std::uint64_t Segment::checkpoint_id() noexcept {
  std::uint64_t id = header_->checkpoint_id.load(std::memory_order_acquire);
  if (id != 0 || access_ != Access::read_write) return id;
  std::uint64_t drawn = 0;
  while (drawn == 0) {
    if (::getrandom(&drawn, sizeof drawn, 0) != static_cast<ssize_t>(sizeof drawn)) {
      drawn = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
              (std::uint64_t(::getpid()) << 40);
    }
  }
  // The loser of a race adopts the winner's.
  return header_->checkpoint_id.compare_exchange_strong(id, drawn, std::memory_order_acq_rel) ? drawn : id;
}

std::uint64_t Segment::count_live_servers(std::int64_t now) const noexcept { return table().count_servers(now).live; }

std::optional<LockHolder> Segment::lock_holder(std::uint64_t index) const noexcept {
  const LockWord word = slot(index).lock_owner.load(std::memory_order_acquire);
  if (word == 0) return std::nullopt;
  return LockHolder{thread_of(word), word >> 32, owner_alive(word)};
}

bool Segment::left_mid_write(std::uint64_t index) const noexcept {
  const std::optional<LockHolder> holder = lock_holder(index);
  return holder && !holder->alive && (slot(index).seq.load(std::memory_order_acquire) & 1) != 0;
}

FingerprintCheck Segment::check_fingerprint(std::uint64_t index) const noexcept {
  using Fault = FingerprintCheck::Fault;
  const std::uint32_t stored = fingerprints_[index].load(std::memory_order_acquire);
  const std::uint32_t state = slot(index).state.load(std::memory_order_acquire);
  if (state == kSlotEmpty) return {stored != 0 ? Fault::on_never_used : Fault::none, stored, 0};
  if (state == kSlotRetired) {
    return {stored != kRetiredFingerprint ? Fault::on_deleted : Fault::none, stored, kRetiredFingerprint};
  }
  const std::uint32_t expected = fingerprint_of(slot(index).name_hash);
  const Fault fault = stored == 0                     ? Fault::missing
                      : stored == kRetiredFingerprint ? Fault::still_retired
                      : stored != expected            ? Fault::wrong
                                                      : Fault::none;
  return {fault, stored, expected};
}

SlotRepair Segment::repair_slot(std::uint64_t index) noexcept {
  using Fault = FingerprintCheck::Fault;
  SlotRepair done;
  if (access_ != Access::read_write) return done;
  Slot& slot = this->slot(index);
  const LockWord holder = slot.lock_owner.load(std::memory_order_acquire);
  const Fault fault = check_fingerprint(index).fault;
  const bool dead_holder = holder != 0 && !owner_alive(holder);
  const bool odd = (slot.seq.load(std::memory_order_acquire) & 1) != 0;
  if (!dead_holder && !odd && (fault == Fault::none || fault == Fault::on_never_used)) return done;
  const LockResult locked = lock_slot(slot, days_, header_->counters);
  if (locked == LockResult::busy) {
    done.busy = true;
    return done;
  }
  done.took_over_lock = locked == LockResult::took_over;
  const FingerprintCheck now = check_fingerprint(index);  // under the lock: no claim or delete is midway
  if (now.fault != Fault::none && now.fault != Fault::on_never_used) {
    fingerprints_[index].store(now.expected, std::memory_order_release);
    done.fingerprint_was = now.stored;
    done.fingerprint_now = now.expected;
  }
  unlock_slot(slot);
  return done;
}


SegmentFacts Segment::facts() const noexcept {
  const Header& h = *header_;
  const Counters& c = h.counters;
  return {h.layout_version.load(std::memory_order_acquire), h.header_size, h.capacity, h.slot_size, h.mode,
          h.created_unix, static_cast<int>(h.days), c.used_slots.load(relaxed), c.samples_recorded.load(relaxed),
          c.lock_takeovers.load(relaxed), c.table_full_rejections.load(relaxed)};
}

Table Segment::table() const noexcept {
  return {fingerprints_, slots_, slot_size_, days_, capacity_, &header_->counters};
}

void Segment::visit_servers(std::optional<std::int64_t> live_at, void (*visit)(void*, const ServerEntry&),
                            void* target) const {
  SlotIdentity identity;
  for (std::uint64_t i = 0; i < capacity_; ++i) {
    Slot& slot = this->slot(i);
    const std::uint32_t before = slot.seq.load(std::memory_order_acquire);
    if (slot.state.load(std::memory_order_acquire) != kSlotReady || !read_identity(slot, identity)) continue;
    if (live_at && expired(identity.last_sample_unix, *live_at, days_)) continue;
    const std::uint32_t marker = slot.seq.load(std::memory_order_acquire) == before ? before : 1;
    visit(target, ServerEntry{identity.name_view(), i, &slot, identity.last_sample_unix, marker});
  }
}

Status Segment::copy_latest_minute(Slot& slot, std::string_view name, LatestMinute& out) noexcept {
  const bool may_repair = access_ == Access::read_write;
  return read_latest_minute(slot, days_, name, out, header_->counters, may_repair) == ReadResult::ok ? Status::ok
                                                                                                    : Status::busy;
}

Status Segment::snapshot(std::string_view name, std::int64_t now, Snapshot& out) noexcept {
  if (!is_valid_name(name)) return Status::invalid_name;
  if (now < 0) return Status::invalid_value;
  Slot* slot = table().find(name, hash_name(name), {SlotUse::whole});
  if (slot == nullptr) return Status::not_found;
  SlotCopy copy;
  const Status status = copy_slot(*slot, copy);
  if (status != Status::ok) return status;
  // Deleted or reused since it was found, or silent too long.
  if (copy.name_view() != name || expired(copy.last_sample_unix, now, days_)) return Status::not_found;
  fill_snapshot(copy, now, out);
  return Status::ok;
}

Status Segment::forget(std::string_view name, std::int64_t now) noexcept {
  if (!is_valid_name(name)) return Status::invalid_name;
  if (access_ != Access::read_write) return Status::read_only;
  Table table = this->table();
  const std::uint64_t hash = hash_name(name);
  // A slot found may be deleted or reused before its lock is ours: look again.
  constexpr int kAttempts = 4;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Slot* slot = table.find(name, hash, {SlotUse::sample, now, name.size()});
    if (slot == nullptr) return Status::not_found;
    if (lock_slot(*slot, days_, header_->counters) == LockResult::busy) return Status::busy;
    if (!slot_holds(*slot, name, hash)) {
      unlock_slot(*slot);
      continue;
    }
    if (writes_moved()) {
      unlock_slot(*slot);
      return Status::moved;
    }
    const bool live = table.retire_locked(*slot, now);
    unlock_slot(*slot);
    return live ? Status::ok : Status::not_found;
  }
  return Status::busy;
}

bool Segment::recount_due(std::int64_t now) noexcept {
  if (now >= next_expiry_.load(relaxed)) return true;  // a server the last recount counted has expired since
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count();
  std::int64_t seen = last_recount_ms_.load(relaxed);
  return (seen == 0 || now_ms - seen >= 1000) && last_recount_ms_.compare_exchange_strong(seen, now_ms, relaxed);
}

std::uint64_t Segment::recount_used_slots(std::int64_t now) noexcept {
  const Table::ServerCount count = table().recount_used_slots(now);
  next_expiry_.store(count.next_expiry, relaxed);
  return count.live;
}

bool Segment::register_process(ProcessKind kind, std::int64_t now) {
  if (access_ != Access::read_write || registry_index_ >= 0) return registry_index_ >= 0;
  const std::uint32_t me = process_id();
  for (int i = 0; i < kMaxAttachedProcesses; ++i) {
    ProcessEntry& e = header_->processes[i];
    std::uint32_t pid = e.pid.load(relaxed);
    if ((pid == 0 || !process_alive(pid)) && e.pid.compare_exchange_strong(pid, me)) {
      e.kind.store(static_cast<std::uint32_t>(kind), relaxed);
      e.start_unix.store(now, relaxed);
      registry_index_ = i;
      return true;
    }
  }
  return false;
}

std::vector<RegisteredProcess> Segment::registered_processes() const {
  std::vector<RegisteredProcess> out;
  for (const ProcessEntry& entry : header_->processes) {
    const std::uint32_t pid = entry.pid.load(std::memory_order_acquire);
    if (pid == 0) continue;
    out.push_back({pid, static_cast<ProcessKind>(entry.kind.load(relaxed)), entry.start_unix.load(relaxed),
                   process_alive(pid)});
  }
  return out;
}

void Segment::unregister_process() noexcept {
  if (registry_index_ < 0 || header_ == nullptr) return;
  std::uint32_t me = process_id();
  header_->processes[registry_index_].pid.compare_exchange_strong(me, 0);
  registry_index_ = -1;
}

}  // namespace servertrack::shm
