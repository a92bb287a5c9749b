// SPDX-License-Identifier: MIT
// Sign-in for the users heliograph-server keeps itself: password login, refresh-token rotation
// with reuse detection, sign-out, the limit on failed logins, and the user rules shared by the
// HTTP endpoints (app/authapi), the `heliograph-server user` command and demo mode.
//
// Tokens: the access token is a JWT signed with the server's own key (what the hubs and the
// push API validate): sub = username, tenant_id, name, role, iss/aud as configured, iat, exp.
// The refresh token is 256 random bits, base64url; storage only ever sees its SHA-256. Using
// a refresh token revokes it and issues a new one of the same family; presenting a revoked
// one revokes the whole family (a stolen token used by two parties). Nothing here logs a
// password, a hash or a token.
//
// Threading: a login's Argon2id verification (about 0.4 s of a core and 64 MiB with the
// defaults) runs on the service's own bounded thread pool, never on the caller's thread (for
// the server, the event-loop thread of the request's connection): loginAsync() checks the
// limits at once and hands the rest to the pool. Attempts still being checked count against
// the failure limits, so parallel requests cannot get past them; beyond maxPendingLogins the
// answer is Busy (503) at once.
#pragma once

#include "auth/jwt.h"
#include "auth/passwordhasher.h"
#include "storage/storage.h"

#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QThreadPool>

#include <chrono>
#include <deque>
#include <functional>

namespace Heliograph::Server {

struct AuthOptions {
    std::chrono::seconds accessTokenLifetime {15 * 60};
    std::chrono::seconds refreshTokenLifetime {30 * 24 * 3600};
    Argon2Parameters passwordHashing;
    /// Failed logins allowed per username within failedLoginWindow; the next attempt for that
    /// username gets 429 until the oldest failure leaves the window. 0: no limit.
    int maxFailedLogins = 5;
    /// The same per remote address (any usernames; higher: offices share addresses).
    int maxFailedLoginsPerAddress = 20;
    std::chrono::seconds failedLoginWindow {60};
    /// Threads that verify passwords; 0: half the cores (at least one).
    int hashingThreads = 0;
    /// Logins being verified or waiting for a hashing thread; more are refused with 503 and
    /// Retry-After. 0: four per hashing thread.
    int maxPendingLogins = 0;
    /// Seed the demo tenants and users (see demoAccounts()) and print their passwords.
    bool demo = false;
    /// Milliseconds since the Unix epoch; empty: the system clock (tests move time with it).
    std::function<qint64()> clock;
    /// Tests: runs on the hashing thread right before each password verification (it may
    /// block, to hold a login in progress).
    std::function<void()> beforeHashing;
};

/// The roles the server knows: Admin (of its tenant), Editor, Viewer, Operator (every tenant,
/// admin console), Service (machine clients of the push API).
const QList<QByteArray> &knownRoles();

/// Empty if acceptable, else a message for the user. Usernames: 1..64 of [A-Za-z0-9._@-],
/// starting with a letter or digit (case-insensitive: stored in lower case). Tenants: 1..64 of
/// [A-Za-z0-9._-]. Roles: one of knownRoles(). Passwords: 8..1024 bytes of UTF-8.
QString checkUsername(QByteArrayView username);
QString checkTenant(QByteArrayView tenant);
QString checkRole(QByteArrayView role);
QString checkPassword(QByteArrayView password);

/// Validates, hashes the password and stores a new user. The error says what was wrong
/// ("already exists" included); it never contains the password.
AuthResult<UserRecord> addUser(Storage &storage, const PasswordHasher &hasher,
                               const QByteArray &username, const QByteArray &tenant,
                               const QString &displayName, const QList<QByteArray> &roles,
                               QByteArrayView password);
/// Sets a new password and revokes the user's refresh tokens.
AuthResult<bool> setPassword(Storage &storage, const PasswordHasher &hasher,
                             const QByteArray &username, QByteArrayView password);

/// A demo account: demo mode seeds these (fixed, publicly known passwords: demo only).
struct DemoAccount {
    QByteArray username;
    QByteArray tenant;
    QString displayName;
    QByteArray role;
    QByteArray password;
};
const QList<DemoAccount> &demoAccounts();
/// Adds every demo account that does not exist yet; returns how many were added.
AuthResult<int> seedDemoAccounts(Storage &storage, const PasswordHasher &hasher);

/// Counts failures per key in a sliding window, and the attempts still in progress: those
/// count as failures until they are decided (acquire() ... release()). Thread-safe.
class FailureLimiter {
public:
    FailureLimiter(int maxFailures, std::chrono::seconds window);
    /// 0 if `key` may try now, else the seconds until it may (>= 1; 1 when only attempts in
    /// progress fill the limit).
    qint64 retryAfter(const QByteArray &key, qint64 nowMs);
    /// Like retryAfter(); on 0 an attempt of `key` is in progress until release().
    qint64 acquire(const QByteArray &key, qint64 nowMs);
    /// Ends an attempt of acquire(); a failed one is recorded at `nowMs`.
    void release(const QByteArray &key, qint64 nowMs, bool failed);
    void recordFailure(const QByteArray &key, qint64 nowMs);
    /// Forgets the failures of `key` (not its attempts in progress).
    void reset(const QByteArray &key);

private:
    qint64 retryAfterLocked(const QByteArray &key, qint64 nowMs);
    void recordFailureLocked(const QByteArray &key, qint64 nowMs);
    void pruneLocked(qint64 nowMs);

    QMutex m_mutex;
    int m_max;
    qint64 m_windowMs;
    QHash<QByteArray, std::deque<qint64>> m_failures;
    QHash<QByteArray, int> m_inProgress;
};

struct IssuedTokens {
    QByteArray accessToken;
    QDateTime expiresAt;
    QByteArray refreshToken;
    QDateTime refreshExpiresAt;
    UserRecord user;
};

struct SignInError {
    enum Code : quint8 {
        InvalidCredentials, ///< 401: unknown user or wrong password (one message for both)
        InvalidRefreshToken, ///< 401: unknown, expired, revoked or reused
        Disabled, ///< 403: right password, disabled account
        RateLimited, ///< 429: too many failures; see retryAfterSeconds
        Unavailable, ///< 503: storage or signing failed, or the service is shutting down
        Busy, ///< 503: too many logins being verified; see retryAfterSeconds
    } code = InvalidCredentials;
    QString message;
    qint64 retryAfterSeconds = 0;
};
template<typename T> using SignInResult = Expected<T, SignInError>;

class AuthService {
public:
    using LoginCallback = std::function<void(SignInResult<IssuedTokens> result)>;

    /// `signer` must hold the key the server validates with; `issuer` and `audiences` go into
    /// every access token (the validator's required iss/aud).
    AuthService(Storage &storage, JwtSigner signer, QByteArray issuer, QList<QByteArray> audiences,
                AuthOptions options);
    /// Logins waiting for a hashing thread are answered Unavailable without hashing; the
    /// verifications already running are waited for (their callbacks run first).
    ~AuthService();

    const AuthOptions &options() const noexcept { return m_options; }
    const PasswordHasher &hasher() const noexcept { return m_hasher; }
    int hashingThreads() const noexcept { return m_pool.maxThreadCount(); }
    int maxPendingLogins() const noexcept { return m_maxPendingLogins; }

    /// Checks the failure limits and the pending-login bound now (RateLimited and Busy are
    /// passed to `done` before this returns), then verifies the password on a hashing thread
    /// and calls `done` there. `done` is called exactly once.
    void loginAsync(QByteArrayView username, QByteArrayView password,
                    const QByteArray &remoteAddress, LoginCallback done);
    /// The same on the caller's thread (blocks for the verification).
    SignInResult<IssuedTokens> login(QByteArrayView username, QByteArrayView password,
                                     const QByteArray &remoteAddress);
    SignInResult<IssuedTokens> refresh(QByteArrayView refreshToken);
    /// Revokes the token's family; unknown tokens are ignored.
    void logout(QByteArrayView refreshToken);

    /// SHA-256 of a refresh token (what storage keeps).
    static QByteArray refreshTokenHash(QByteArrayView refreshToken);

private:
    struct Attempt;
    SignInResult<Attempt> admit(QByteArrayView username, QByteArrayView password,
                                const QByteArray &remoteAddress);
    SignInResult<IssuedTokens> verify(Attempt &attempt);
    qint64 nowMs() const;
    SignInResult<IssuedTokens> issue(const UserRecord &user, const QByteArray &refreshToken,
                                     const QDateTime &refreshExpiresAt) const;

    Storage &m_storage;
    JwtSigner m_signer;
    QByteArray m_issuer;
    QList<QByteArray> m_audiences;
    AuthOptions m_options;
    PasswordHasher m_hasher;
    FailureLimiter m_userFailures;
    FailureLimiter m_addressFailures;
    int m_maxPendingLogins = 0;
    QMutex m_pendingMutex;
    int m_pendingLogins = 0; ///< admitted, not yet decided
    bool m_closing = false; ///< the destructor runs: pending logins are not verified any more
    QThreadPool m_pool; ///< last: destroyed (after waiting) before what its work uses
};

} // namespace Heliograph::Server
