// SPDX-License-Identifier: MIT
// Running work on another object's thread. Every cross-thread call of the server goes through
// these two functions, so the happens-before edge they create can be made visible to
// ThreadSanitizer: Qt's event queue synchronises with a futex inside libQt6Core, which TSan
// cannot see unless Qt itself was built with -fsanitize=thread (Debian's is not). In TSan builds
// each hand-off releases a fresh address before posting and acquires it in the posted call,
// exactly the edge the queue's mutex gives. The one write TSan would still see unordered is the
// functor's move into Qt's call object inside invokeMethod (after the release); those writes
// are left out of TSan's view. In other builds these are plain queued calls.
#pragma once

#include <QtCore/QMetaObject>
#include <QtCore/QObject>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#if defined(__SANITIZE_THREAD__)
#define HELIOGRAPH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HELIOGRAPH_TSAN 1
#endif
#endif

#ifdef HELIOGRAPH_TSAN
#include <sanitizer/tsan_interface.h>
extern "C" void AnnotateIgnoreWritesBegin(const char *file, int line);
extern "C" void AnnotateIgnoreWritesEnd(const char *file, int line);
#endif

namespace Heliograph::Server {

#ifdef HELIOGRAPH_TSAN
namespace Detail {
/// The posted call in TSan builds. Qt destroys it on whichever thread drops the last reference
/// (the receiver, or the poster if the receiver ran first), synchronising inside libQt6Core; so
/// the work and everything it captured are destroyed right after the call, on the receiver, and
/// the edge is acquired again before the (then empty) object is destroyed anywhere.
template<typename F> class TsanHandoff {
public:
    explicit TsanHandoff(F &&f)
        : m_edge(new char(0))
        , m_work(std::forward<F>(f))
    {
        __tsan_release(m_edge);
    }
    TsanHandoff(TsanHandoff &&other) noexcept
        : m_edge(std::exchange(other.m_edge, nullptr))
        , m_work(std::move(other.m_work))
    {
        other.m_work.reset();
    }
    TsanHandoff(const TsanHandoff &) = delete;
    TsanHandoff &operator=(const TsanHandoff &) = delete;
    TsanHandoff &operator=(TsanHandoff &&) = delete;
    ~TsanHandoff()
    {
        if (!m_edge)
            return;
        __tsan_acquire(m_edge);
        m_work.reset();
        delete m_edge;
    }
    void operator()()
    {
        __tsan_acquire(m_edge);
        (*m_work)();
        m_work.reset();
        __tsan_release(m_edge);
    }

private:
    char *m_edge;
    std::optional<std::decay_t<F>> m_work;
};
} // namespace Detail
#endif

/// Queues `f` to run on `target`'s thread (also when that is the calling thread: it then runs
/// from the event loop, never re-entrantly). Dropped if `target` is destroyed first.
template<typename F> void postTo(QObject *target, F &&f)
{
#ifdef HELIOGRAPH_TSAN
    Detail::TsanHandoff<F> call(std::forward<F>(f));
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
    QMetaObject::invokeMethod(target, std::move(call), Qt::QueuedConnection);
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
#else
    QMetaObject::invokeMethod(target, std::forward<F>(f), Qt::QueuedConnection);
#endif
}

/// Runs `f` on `target`'s thread, which must not be the calling thread, and waits for it to
/// finish. Only for shutdown: it blocks the caller.
template<typename F> void runOnAndWait(QObject *target, F &&f)
{
#ifdef HELIOGRAPH_TSAN
    char edge = 0;
    __tsan_release(&edge);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
    QMetaObject::invokeMethod(
        target,
        [&edge, &f] {
            __tsan_acquire(&edge);
            f();
            __tsan_release(&edge);
        },
        Qt::BlockingQueuedConnection);
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    __tsan_acquire(&edge);
#else
    QMetaObject::invokeMethod(target, std::forward<F>(f), Qt::BlockingQueuedConnection);
#endif
}

} // namespace Heliograph::Server
