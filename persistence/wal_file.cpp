#include "persistence/wal_file.hpp"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <thread>

namespace hotlead {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

IOStatus io_error(const std::string& what, const std::string& file, int err) {
  if (err == ENOSPC)
    return IOStatus::NoSpace(what + " " + file, std::strerror(err));
  return IOStatus::IOError(what + " " + file, std::strerror(err));
}

/// pwrite all of [data, data + n) at `offset`.
int write_at(int fd, const char* data, size_t n, uint64_t offset) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    data += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return 0;
}

/// Zeros for the zero-fill, aligned for O_DIRECT.
const char* zero_chunk() {
  static char* zeros = [] {
    void* p = nullptr;
    if (posix_memalign(&p, 4096, wal_zero_chunk) != 0)
      throw std::bad_alloc{};
    std::memset(p, 0, wal_zero_chunk);
    return static_cast<char*>(p);
  }();
  return zeros;
}

/// A WAL file whose blocks past its end are zeros already on disk (see
/// wal_file.hpp). A helper thread keeps the zeros `ahead` bytes in front of
/// the writes, with O_DIRECT (no dirty pages that the WAL's own fdatasync
/// would have to write) followed by readahead (so a write of part of a page
/// finds the page cached instead of reading it). Invariant: size_ <=
/// zeroed_; [size_, zeroed_) is zeros, and the file's size and blocks up to
/// zeroed_ are durable. The writer only writes below zeroed_, the helper
/// only at or above it.
class zeroed_wal final : public rocksdb::FSWritableFile {
public:
  static constexpr uint64_t ahead = 2 * wal_zero_chunk;
  static constexpr uint64_t max_fill = 64; // chunks per fdatasync of the helper

  zeroed_wal(std::string name, int fd, int direct_fd)
    : name_(std::move(name)), fd_(fd), direct_fd_(direct_fd) {
    want_ = ahead;
    helper_ = std::thread{[this] { zero_fill(); }};
  }

  ~zeroed_wal() override {
    if (fd_ >= 0)
      close_file();
  }

  IOStatus Append(const Slice& data, const IOOptions&, IODebugContext*) override {
    if (fd_ < 0)
      return IOStatus::IOError("append to closed WAL " + name_);
    uint64_t end = size_ + data.size();
    if (!plain_ && end + ahead > zeroed_seen_) {
      std::unique_lock lock{mtx_};
      if (end + ahead > zeroed_ && end + ahead > want_) {
        want_ = end + ahead; // the helper waits only when it has reached want_
        cv_.notify_all();
      }
      cv_.wait(lock, [&] { return zeroed_ >= end || helper_failed_; });
      zeroed_seen_ = zeroed_;
      // After a failed zero-fill (a full disk), write on as plain appends.
      plain_ = helper_failed_ && zeroed_ < end;
    }
    if (int err = write_at(fd_, data.data(), data.size(), size_))
      return io_error("write of WAL", name_, err);
    size_ = end;
    return IOStatus::OK();
  }

  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo&, IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }

  IOStatus Truncate(uint64_t size, const IOOptions&, IODebugContext*) override {
    stop_helper();
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return io_error("truncate of WAL", name_, errno);
    size_ = size;
    plain_ = true; // no zeros past the new end: appends are plain appends
    return IOStatus::OK();
  }

  IOStatus Close(const IOOptions&, IODebugContext*) override {
    return close_file();
  }

  IOStatus Flush(const IOOptions&, IODebugContext*) override {
    return IOStatus::OK(); // Append writes through; nothing is buffered here
  }

  IOStatus Sync(const IOOptions&, IODebugContext*) override {
    if (::fdatasync(fd_) != 0)
      return io_error("fdatasync of WAL", name_, errno);
    return IOStatus::OK();
  }

  IOStatus Fsync(const IOOptions&, IODebugContext*) override {
    if (::fsync(fd_) != 0)
      return io_error("fsync of WAL", name_, errno);
    return IOStatus::OK();
  }

  bool IsSyncThreadSafe() const override {
    return true; // Sync reads no member but the descriptor
  }

  uint64_t GetFileSize(const IOOptions&, IODebugContext*) override {
    return size_;
  }

private:
  /// The helper: zero-fills whole chunks from zeroed_ up to want_, all the
  /// chunks wanted (up to max_fill) with one fdatasync: a big append (a
  /// re-score's batch of tens of MB) waits for one sync, not one per MiB.
  void zero_fill() {
    std::unique_lock lock{mtx_};
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || zeroed_ < want_; });
      if (stop_)
        return;
      uint64_t at = zeroed_;
      uint64_t chunks = std::min<uint64_t>((want_ - at + wal_zero_chunk - 1) / wal_zero_chunk,
                                           max_fill);
      lock.unlock();
      int fd = direct_fd_ >= 0 ? direct_fd_ : fd_, err = 0;
      for (uint64_t c = 0; c < chunks && !err; ++c)
        err = write_at(fd, zero_chunk(), wal_zero_chunk, at + c * wal_zero_chunk);
      if (!err && ::fdatasync(fd) != 0)
        err = errno;
      if (!err && direct_fd_ >= 0)
        ::readahead(fd_, static_cast<off64_t>(at), chunks * wal_zero_chunk);
      lock.lock();
      if (err) {
        helper_failed_ = true; // the writer goes on with plain appends
        cv_.notify_all();
        return;
      }
      zeroed_ = at + chunks * wal_zero_chunk;
      cv_.notify_all();
    }
  }

  void stop_helper() {
    {
      std::lock_guard lock{mtx_};
      stop_ = true;
      cv_.notify_all();
    }
    if (helper_.joinable())
      helper_.join();
  }

  /// A clean close leaves the file as long as its data.
  IOStatus close_file() {
    stop_helper();
    IOStatus st;
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0)
      st = io_error("truncate of WAL", name_, errno);
    if (::close(fd_) != 0 && st.ok())
      st = io_error("close of WAL", name_, errno);
    if (direct_fd_ >= 0)
      ::close(direct_fd_);
    fd_ = direct_fd_ = -1;
    return st;
  }

  std::string name_;
  int fd_;
  int direct_fd_; // the same file with O_DIRECT, or -1 where unsupported (tmpfs)
  uint64_t size_ = 0;        // the writer's
  uint64_t zeroed_seen_ = 0; // the writer's copy of zeroed_
  bool plain_ = false;       // the writer's: no zero-fill any more
  std::mutex mtx_;
  std::condition_variable cv_;
  uint64_t zeroed_ = 0; // guarded by mtx_, as are the three below
  uint64_t want_ = 0;
  bool helper_failed_ = false;
  bool stop_ = false;
  std::thread helper_;
};

bool is_wal(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0;
}

class zeroed_wal_fs final : public rocksdb::FileSystemWrapper {
public:
  using FileSystemWrapper::FileSystemWrapper;

  const char* Name() const override {
    return "hotlead_zeroed_wal";
  }

  IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                           IODebugContext* dbg) override {
    if (!is_wal(name) || options.use_direct_writes || options.use_mmap_writes)
      return FileSystemWrapper::NewWritableFile(name, options, result, dbg);
    int fd = ::open(name.c_str(), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644); // read: readahead
    if (fd < 0)
      return io_error("open of WAL", name, errno);
    int direct_fd = ::open(name.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
    *result = std::make_unique<zeroed_wal>(name, fd, direct_fd);
    return IOStatus::OK();
  }
};

} // namespace

std::shared_ptr<rocksdb::FileSystem> make_zeroed_wal_fs(std::shared_ptr<rocksdb::FileSystem> base) {
  return std::make_shared<zeroed_wal_fs>(std::move(base));
}

rocksdb::Env* zeroed_wal_env() {
  static rocksdb::Env* env =
    rocksdb::NewCompositeEnv(make_zeroed_wal_fs(rocksdb::FileSystem::Default())).release();
  return env;
}

} // namespace hotlead
