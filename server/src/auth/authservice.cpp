// SPDX-License-Identifier: MIT
#include "auth/authservice.h"

#include "auth/jwt_p.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>

#include <algorithm>
#include <openssl/err.h>
#include <openssl/rand.h>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcAuth, "heliograph.server.auth", QtInfoMsg)

namespace Heliograph::Server {

namespace {

constexpr qsizetype MaxNameSize = 64;
constexpr qsizetype MinPasswordSize = 8;
constexpr qsizetype RefreshTokenBytes = 32;
constexpr qsizetype MaxLimiterKeys = 10000;

bool isAsciiAlnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

QString checkName(QByteArrayView value, const QString &what, QByteArrayView extra)
{
    if (value.isEmpty())
        return u"The %1 must not be empty."_s.arg(what);
    if (value.size() > MaxNameSize)
        return u"The %1 is longer than %2 characters."_s.arg(what).arg(MaxNameSize);
    if (!isAsciiAlnum(value.front()))
        return u"The %1 must start with a letter or a digit."_s.arg(what);
    for (char c : value)
        if (!isAsciiAlnum(c) && !extra.contains(c))
            return u"The %1 may only hold letters, digits and %2"_s.arg(
                what, QString::fromLatin1(extra.toByteArray()));
    return {};
}

std::optional<QByteArray> randomToken(qsizetype bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(raw.data()), int(raw.size())) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    QByteArray token = Detail::base64UrlEncode(raw);
    Detail::wipe(raw);
    return token;
}

SignInError unavailable(const QString &why)
{
    qCWarning(lcAuth) << "sign-in failed:" << why;
    return SignInError {SignInError::Unavailable,
                        u"Signing in is not possible right now; try again later."_s};
}

const QString BadCredentials = u"The username or password is incorrect."_s;
const QString BadRefreshToken = u"The refresh token is not valid."_s;

} // namespace

const QList<QByteArray> &knownRoles()
{
    static const QList<QByteArray> roles {"Admin", "Editor", "Viewer", "Operator", "Service"};
    return roles;
}

QString checkUsername(QByteArrayView username)
{
    return checkName(username, u"username"_s, "._@-");
}

QString checkTenant(QByteArrayView tenant)
{
    return checkName(tenant, u"tenant"_s, "._-");
}

QString checkRole(QByteArrayView role)
{
    if (knownRoles().contains(role))
        return {};
    return u"Unknown role '%1'; the roles are %2."_s.arg(
        QString::fromUtf8(role.first(qMin(role.size(), MaxNameSize))),
        QString::fromLatin1(QByteArrayList(knownRoles()).join(", ")));
}

QString checkPassword(QByteArrayView password)
{
    if (password.size() < MinPasswordSize)
        return u"The password must have at least %1 characters."_s.arg(MinPasswordSize);
    if (password.size() > PasswordHasher::MaxPasswordSize)
        return u"The password is longer than %1 bytes."_s.arg(PasswordHasher::MaxPasswordSize);
    if (!password.isValidUtf8())
        return u"The password is not valid UTF-8."_s;
    return {};
}

AuthResult<UserRecord> addUser(Storage &storage, const PasswordHasher &hasher,
                               const QByteArray &username, const QByteArray &tenant,
                               const QString &displayName, const QList<QByteArray> &roles,
                               QByteArrayView password)
{
    QString why = checkUsername(username);
    if (why.isEmpty())
        why = checkTenant(tenant);
    if (why.isEmpty() && displayName.size() > 200)
        why = u"The display name is longer than 200 characters."_s;
    if (why.isEmpty() && roles.isEmpty())
        why = u"A user needs at least one role."_s;
    for (const QByteArray &role : roles)
        if (why.isEmpty())
            why = checkRole(role);
    if (why.isEmpty())
        why = checkPassword(password);
    if (!why.isEmpty())
        return AuthError {why};

    auto hash = hasher.hash(password);
    if (!hash)
        return hash.error();
    UserRecord user;
    user.username = username.toLower();
    user.tenant = tenant;
    user.displayName = displayName.isEmpty() ? QString::fromUtf8(username) : displayName;
    for (const QByteArray &role : roles)
        if (!user.roles.contains(role))
            user.roles.append(role);
    user.passwordHash = *hash;
    user.createdAt = QDateTime::fromMSecsSinceEpoch(QDateTime::currentMSecsSinceEpoch(), Qt::UTC);
    auto added = storage.addUser(user);
    if (!added)
        return AuthError {u"Storage failed: %1"_s.arg(added.error().message)};
    if (!*added)
        return AuthError {u"The user '%1' already exists."_s.arg(QString::fromUtf8(user.username))};
    return user;
}

AuthResult<bool> setPassword(Storage &storage, const PasswordHasher &hasher,
                             const QByteArray &username, QByteArrayView password)
{
    if (const QString why = checkPassword(password); !why.isEmpty())
        return AuthError {why};
    auto user = storage.findUser(username);
    if (!user)
        return AuthError {u"Storage failed: %1"_s.arg(user.error().message)};
    if (!*user)
        return AuthError {u"There is no user '%1'."_s.arg(QString::fromUtf8(username.toLower()))};
    auto hash = hasher.hash(password);
    if (!hash)
        return hash.error();
    UserRecord updated = **user;
    updated.passwordHash = *hash;
    auto stored = storage.updateUser(updated);
    if (!stored || !*stored)
        return AuthError {u"Storage failed: the password was not changed."_s};
    if (!storage.revokeUserRefreshTokens(updated.username))
        return AuthError {u"The password was changed, but old sessions could not be ended."_s};
    return true;
}

const QList<DemoAccount> &demoAccounts()
{
    static const QList<DemoAccount> accounts {
        {"alice", "acme", u"Alice (acme Admin)"_s, "Admin", "demo-alice-pass"},
        {"bob", "acme", u"Bob (acme Editor)"_s, "Editor", "demo-bob-pass"},
        {"carol", "acme", u"Carol (acme Viewer)"_s, "Viewer", "demo-carol-pass"},
        {"dave", "globex", u"Dave (globex Admin)"_s, "Admin", "demo-dave-pass"},
        {"erin", "globex", u"Erin (globex Editor)"_s, "Editor", "demo-erin-pass"},
        {"frank", "globex", u"Frank (globex Viewer)"_s, "Viewer", "demo-frank-pass"},
        {"oscar", "acme", u"Oscar (Operator)"_s, "Operator", "demo-oscar-pass"},
    };
    return accounts;
}

AuthResult<int> seedDemoAccounts(Storage &storage, const PasswordHasher &hasher)
{
    int added = 0;
    for (const DemoAccount &a : demoAccounts()) {
        auto existing = storage.findUser(a.username);
        if (!existing)
            return AuthError {u"Storage failed: %1"_s.arg(existing.error().message)};
        if (*existing)
            continue;
        auto user
            = addUser(storage, hasher, a.username, a.tenant, a.displayName, {a.role}, a.password);
        if (!user)
            return user.error();
        ++added;
    }
    return added;
}

// --- FailureLimiter ---

FailureLimiter::FailureLimiter(int maxFailures, std::chrono::seconds window)
    : m_max(maxFailures)
    , m_windowMs(qMax<qint64>(1, window.count()) * 1000)
{ }

qint64 FailureLimiter::retryAfter(const QByteArray &key, qint64 nowMs)
{
    if (m_max <= 0)
        return 0;
    QMutexLocker lock(&m_mutex);
    return retryAfterLocked(key, nowMs);
}

qint64 FailureLimiter::acquire(const QByteArray &key, qint64 nowMs)
{
    if (m_max <= 0)
        return 0;
    QMutexLocker lock(&m_mutex);
    const qint64 wait = retryAfterLocked(key, nowMs);
    if (wait == 0)
        ++m_inProgress[key];
    return wait;
}

void FailureLimiter::release(const QByteArray &key, qint64 nowMs, bool failed)
{
    if (m_max <= 0)
        return;
    QMutexLocker lock(&m_mutex);
    if (auto it = m_inProgress.find(key); it != m_inProgress.end() && --*it <= 0)
        m_inProgress.remove(key);
    if (failed)
        recordFailureLocked(key, nowMs);
}

qint64 FailureLimiter::retryAfterLocked(const QByteArray &key, qint64 nowMs)
{
    const qsizetype inProgress = m_inProgress.value(key);
    auto it = m_failures.find(key);
    qsizetype failures = 0;
    if (it != m_failures.end()) {
        std::deque<qint64> &times = *it;
        while (!times.empty() && times.front() <= nowMs - m_windowMs)
            times.pop_front();
        failures = qsizetype(times.size());
    }
    if (failures + inProgress < m_max)
        return 0;
    // Only attempts still being checked fill the limit: they are decided within moments.
    if (failures < m_max)
        return 1;
    // Free again when the oldest failure that keeps the count at the limit leaves the window.
    const qint64 freeAt = (*it)[size_t(failures - m_max)] + m_windowMs;
    return qMax<qint64>(1, (freeAt - nowMs + 999) / 1000);
}

void FailureLimiter::recordFailure(const QByteArray &key, qint64 nowMs)
{
    if (m_max <= 0)
        return;
    QMutexLocker lock(&m_mutex);
    recordFailureLocked(key, nowMs);
}

void FailureLimiter::recordFailureLocked(const QByteArray &key, qint64 nowMs)
{
    if (m_failures.size() >= MaxLimiterKeys)
        pruneLocked(nowMs);
    std::deque<qint64> &times = m_failures[key];
    times.push_back(nowMs);
    while (qsizetype(times.size()) > m_max)
        times.pop_front();
}

void FailureLimiter::reset(const QByteArray &key)
{
    QMutexLocker lock(&m_mutex);
    m_failures.remove(key);
}

void FailureLimiter::pruneLocked(qint64 nowMs)
{
    m_failures.removeIf([&](QHash<QByteArray, std::deque<qint64>>::iterator it) {
        return it->empty() || it->back() <= nowMs - m_windowMs;
    });
    // Still full (an address spraying usernames): forget the oldest half rather than grow.
    if (m_failures.size() >= MaxLimiterKeys) {
        qsizetype n = m_failures.size() / 2;
        m_failures.removeIf(
            [&n](QHash<QByteArray, std::deque<qint64>>::iterator) { return n-- > 0; });
    }
}

// --- AuthService ---

AuthService::AuthService(Storage &storage, JwtSigner signer, QByteArray issuer,
                         QList<QByteArray> audiences, AuthOptions options)
    : m_storage(storage)
    , m_signer(std::move(signer))
    , m_issuer(std::move(issuer))
    , m_audiences(std::move(audiences))
    , m_options(std::move(options))
    , m_hasher(m_options.passwordHashing)
    , m_userFailures(m_options.maxFailedLogins, m_options.failedLoginWindow)
    , m_addressFailures(m_options.maxFailedLoginsPerAddress, m_options.failedLoginWindow)
{
    const int threads = m_options.hashingThreads > 0 ? m_options.hashingThreads
                                                     : qMax(1, QThread::idealThreadCount() / 2);
    m_pool.setObjectName(u"heliograph-password-hashing"_s);
    m_pool.setMaxThreadCount(threads);
    m_maxPendingLogins = m_options.maxPendingLogins > 0 ? m_options.maxPendingLogins : 4 * threads;
    // Unknown users are answered after a dummy verification. It must cost what verifying a
    // stored hash costs, and stored hashes may have been made with other parameters than this
    // server's (an older default, another server's): take the most common ones among them.
    // Each user's hash moves to the current parameters at its next sign-in (verify()).
    if (auto all = m_storage.users()) {
        QList<std::pair<Argon2Parameters, int>> counts;
        for (const UserRecord &u : std::as_const(*all)) {
            const auto p = PasswordHasher::parametersOf(u.passwordHash);
            if (!p)
                continue;
            auto it = std::find_if(counts.begin(), counts.end(),
                                   [&](const auto &c) { return c.first == *p; });
            if (it == counts.end())
                counts.append({*p, 1});
            else
                ++it->second;
        }
        const auto most
            = std::max_element(counts.cbegin(), counts.cend(),
                               [](const auto &a, const auto &b) { return a.second < b.second; });
        if (most != counts.cend() && !(most->first == m_hasher.parameters())) {
            qCInfo(lcAuth) << "stored password hashes mostly use m=" << most->first.memoryKiB
                           << "t=" << most->first.iterations << "p=" << most->first.parallelism
                           << ": unknown users are answered at that cost until users sign in";
            m_hasher.setDummyParameters(most->first);
        }
    }
}

AuthService::~AuthService()
{
    {
        QMutexLocker lock(&m_pendingMutex);
        m_closing = true;
    }
    m_pool.waitForDone();
}

qint64 AuthService::nowMs() const
{
    return m_options.clock ? m_options.clock() : QDateTime::currentMSecsSinceEpoch();
}

QByteArray AuthService::refreshTokenHash(QByteArrayView refreshToken)
{
    return QCryptographicHash::hash(refreshToken, QCryptographicHash::Sha256);
}

/// A login admitted by admit(): it holds an attempt in progress in both failure limiters and a
/// place among the pending logins until verify() has decided it.
struct AuthService::Attempt {
    QByteArray username; ///< lower case
    QByteArray password;
    QByteArray remoteAddress;
    QByteArray userKey;
    QByteArray addressKey;
};

SignInResult<AuthService::Attempt> AuthService::admit(QByteArrayView usernameIn,
                                                      QByteArrayView password,
                                                      const QByteArray &remoteAddress)
{
    const qint64 now = nowMs();
    Attempt a;
    a.username = usernameIn.toByteArray().toLower();
    a.remoteAddress = remoteAddress;
    a.userKey = "u:" + a.username;
    a.addressKey = "a:" + remoteAddress;
    // Attempts in progress count as failures until decided: parallel requests cannot exceed
    // the limits.
    qint64 wait = m_userFailures.acquire(a.userKey, now);
    if (wait == 0) {
        wait = m_addressFailures.acquire(a.addressKey, now);
        if (wait > 0)
            m_userFailures.release(a.userKey, now, false);
    }
    if (wait > 0) {
        qCInfo(lcAuth) << "login refused (too many failures) for" << a.username << "from"
                       << remoteAddress;
        return SignInError {SignInError::RateLimited,
                            u"Too many failed sign-in attempts; try again in %1 s."_s.arg(wait),
                            wait};
    }
    bool closing = false;
    {
        QMutexLocker lock(&m_pendingMutex);
        closing = m_closing;
        if (!closing && m_pendingLogins < m_maxPendingLogins) {
            ++m_pendingLogins;
            a.password = password.toByteArray();
            return a;
        }
    }
    m_userFailures.release(a.userKey, now, false);
    m_addressFailures.release(a.addressKey, now, false);
    if (closing)
        return SignInError {SignInError::Unavailable, u"The server is shutting down."_s};
    qCInfo(lcAuth) << "login refused (" << m_maxPendingLogins << "logins pending) for" << a.username
                   << "from" << remoteAddress;
    return SignInError {SignInError::Busy,
                        u"Too many sign-ins are in progress; try again in 1 s."_s, 1};
}

SignInResult<IssuedTokens> AuthService::verify(Attempt &a)
{
    bool failed = false;
    bool succeeded = false;
    // Whatever happens below, the attempt ends: the limiters learn the outcome, its place
    // among the pending logins is freed and the password copy is wiped.
    const auto done = qScopeGuard([&] {
        const qint64 now = nowMs();
        if (succeeded)
            m_userFailures.reset(a.userKey);
        m_userFailures.release(a.userKey, now, failed);
        m_addressFailures.release(a.addressKey, now, failed);
        Detail::wipe(a.password);
        QMutexLocker lock(&m_pendingMutex);
        --m_pendingLogins;
    });
    {
        QMutexLocker lock(&m_pendingMutex);
        if (m_closing)
            return SignInError {SignInError::Unavailable, u"The server is shutting down."_s};
    }

    auto found = m_storage.findUser(a.username);
    if (!found)
        return unavailable(found.error().message);
    if (m_options.beforeHashing)
        m_options.beforeHashing();
    const bool known = found->has_value();
    const bool passwordOk = known ? PasswordHasher::verify((*found)->passwordHash, a.password)
                                  : (m_hasher.verifyDummy(a.password), false);
    if (!passwordOk) {
        failed = true;
        qCInfo(lcAuth) << "login failed for" << a.username << "from" << a.remoteAddress
                       << (known ? "(wrong password)" : "(no such user)");
        return SignInError {SignInError::InvalidCredentials, BadCredentials};
    }
    const UserRecord &user = **found;
    if (user.disabled) {
        qCInfo(lcAuth) << "login refused for disabled user" << a.username;
        return SignInError {SignInError::Disabled, u"This account is disabled."_s};
    }
    succeeded = true;
    if (m_hasher.needsRehash(user.passwordHash)) {
        // Made with other parameters: replaced by a hash with the current ones, now that the
        // password is at hand (the timing of this user's answers then matches the others').
        if (auto rehashed = m_hasher.hash(a.password)) {
            UserRecord updated = user;
            updated.passwordHash = *rehashed;
            if (auto saved = m_storage.updateUser(updated); !saved || !*saved)
                qCWarning(lcAuth) << "the new password hash of" << a.username << "was not stored";
        }
    }

    const qint64 now = nowMs();
    const auto refreshToken = randomToken(RefreshTokenBytes);
    const auto family = randomToken(16);
    if (!refreshToken || !family)
        return unavailable(u"the random number generator failed"_s);
    const QDateTime refreshExpiresAt = QDateTime::fromMSecsSinceEpoch(
        now + qint64(m_options.refreshTokenLifetime.count()) * 1000, Qt::UTC);
    auto stored = m_storage.addRefreshToken(
        {refreshTokenHash(*refreshToken), user.username, *family, refreshExpiresAt, false});
    if (!stored || !*stored)
        return unavailable(stored ? u"refresh token collision"_s : stored.error().message);
    qCInfo(lcAuth) << "user" << user.username << "of tenant" << user.tenant << "signed in from"
                   << a.remoteAddress;
    return issue(user, *refreshToken, refreshExpiresAt);
}

void AuthService::loginAsync(QByteArrayView username, QByteArrayView password,
                             const QByteArray &remoteAddress, LoginCallback done)
{
    auto admitted = admit(username, password, remoteAddress);
    if (!admitted) {
        done(admitted.error());
        return;
    }
    m_pool.start(
        [this, a = std::move(*admitted), done = std::move(done)]() mutable { done(verify(a)); });
}

SignInResult<IssuedTokens> AuthService::login(QByteArrayView username, QByteArrayView password,
                                              const QByteArray &remoteAddress)
{
    auto admitted = admit(username, password, remoteAddress);
    if (!admitted)
        return admitted.error();
    return verify(*admitted);
}

SignInResult<IssuedTokens> AuthService::refresh(QByteArrayView refreshToken)
{
    const qint64 now = nowMs();
    const auto next = randomToken(RefreshTokenBytes);
    if (!next)
        return unavailable(u"the random number generator failed"_s);
    const QDateTime nowUtc = QDateTime::fromMSecsSinceEpoch(now, Qt::UTC);
    const QDateTime refreshExpiresAt
        = nowUtc.addMSecs(qint64(m_options.refreshTokenLifetime.count()) * 1000);
    auto rotated = m_storage.rotateRefreshToken(refreshTokenHash(refreshToken),
                                                refreshTokenHash(*next), refreshExpiresAt, nowUtc);
    if (!rotated)
        return unavailable(rotated.error().message);
    switch (rotated->outcome) {
    case RefreshRotation::Unknown:
    case RefreshRotation::Expired:
        return SignInError {SignInError::InvalidRefreshToken, BadRefreshToken};
    case RefreshRotation::Reused:
        qCWarning(lcAuth) << "a revoked refresh token of user" << rotated->username
                          << "was presented again: every token of its session is revoked";
        return SignInError {SignInError::InvalidRefreshToken, BadRefreshToken};
    case RefreshRotation::Rotated:
        break;
    }
    auto user = m_storage.findUser(rotated->username);
    if (!user)
        return unavailable(user.error().message);
    if (!*user || (*user)->disabled) {
        if (!m_storage.revokeRefreshFamily(rotated->familyId))
            qCWarning(lcAuth) << "could not revoke a refresh token family";
        return SignInError {SignInError::InvalidRefreshToken, BadRefreshToken};
    }
    return issue(**user, *next, refreshExpiresAt);
}

void AuthService::logout(QByteArrayView refreshToken)
{
    auto found = m_storage.findRefreshToken(refreshTokenHash(refreshToken));
    if (found && *found) {
        if (!m_storage.revokeRefreshFamily((*found)->familyId))
            qCWarning(lcAuth) << "could not revoke a refresh token family";
        qCInfo(lcAuth) << "user" << (*found)->username << "signed out";
    }
}

SignInResult<IssuedTokens> AuthService::issue(const UserRecord &user,
                                              const QByteArray &refreshToken,
                                              const QDateTime &refreshExpiresAt) const
{
    TokenRequest request;
    request.subject = user.username;
    request.tenantId = user.tenant;
    request.name = user.displayName;
    request.roles = user.roles;
    request.issuer = m_issuer;
    request.audiences = m_audiences;
    request.issuedAt = nowMs() / 1000;
    request.lifetime = m_options.accessTokenLifetime;
    auto token = m_signer.sign(request);
    if (!token)
        return unavailable(token.error().message);
    IssuedTokens t;
    t.accessToken = *token;
    t.expiresAt
        = QDateTime::fromSecsSinceEpoch(*request.issuedAt + request.lifetime.count(), Qt::UTC);
    t.refreshToken = refreshToken;
    t.refreshExpiresAt = refreshExpiresAt;
    t.user = user;
    return t;
}

} // namespace Heliograph::Server
