// SPDX-License-Identifier: MIT
// The signing keys of an external identity provider (Keycloak, Entra ID, Auth0, ...): JSON Web
// Key Sets (RFC 7517) fetched from a JWKS URL or found through OpenID Connect discovery, cached,
// refreshed on a schedule and when a token names an unknown key, and published to validators.
//
// Threads: a JwksClient lives on one thread (the server's main thread) and does all networking
// there with QNetworkAccessManager. It publishes each new JwtKeySet (immutable) to a
// JwksKeyStore, which validators on any thread read as a snapshot (a shared_ptr copy under a
// mutex); a validator that meets an unknown `kid` asks the store for a refresh, which is
// rate-limited and posted to the client's thread, never waited for.
#pragma once

#include "auth/jwt.h"

#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <QtCore/QTimer>
#include <QtCore/QUrl>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

class QNetworkAccessManager;
class QNetworkReply;

namespace Heliograph::Server {

using namespace std::chrono_literals;

/// One usable signing key of a JWK Set.
struct Jwk {
    QByteArray kid; ///< `kid`; empty when the JWK has none
    std::optional<JwtAlgorithm> algorithm; ///< `alg`; empty: any algorithm of the key's type
    std::shared_ptr<const Detail::JwtKey> key;

    /// True if this key may verify `alg` tokens: its `alg` if it has one, else its type's
    /// algorithms (RSA: RS256 and PS256; P-256: ES256). Never HS256.
    bool accepts(JwtAlgorithm alg) const noexcept;
};

/// An immutable set of signing keys of one identity provider, and its issuer.
class JwtKeySet {
public:
    static constexpr qsizetype MaxKeys = 32;
    static constexpr qsizetype MaxDocumentSize = 1024 * 1024;

    /// Parses a JWK Set document. Keys that cannot verify signatures here are skipped, each with
    /// a line in `skipped`: `use` other than "sig", `key_ops` without "verify", an `alg` other
    /// than RS256/PS256/ES256 (or not matching the key type), types other than RSA (>= 2048
    /// bits) and EC P-256, private key material, members of the wrong type, duplicate members.
    /// Errors: not a JSON object, no "keys" array, more than MaxKeys keys, larger than
    /// MaxDocumentSize, or no usable key at all.
    static AuthResult<std::shared_ptr<const JwtKeySet>>
    parse(QByteArrayView json, QByteArray issuer = {}, QStringList *skipped = nullptr);
    /// One JWK (a JSON object) to a key, with the same rules.
    static AuthResult<Jwk> parseKey(const Value &jwk);

    const QList<Jwk> &keys() const noexcept { return m_keys; }
    /// The issuer from OpenID Connect discovery; empty without discovery.
    const QByteArray &issuer() const noexcept { return m_issuer; }
    bool containsKeyId(QByteArrayView kid) const noexcept;
    /// The key ids, for logs ("k1, k2").
    QString keyIdList() const;

private:
    JwtKeySet() = default;

    QList<Jwk> m_keys;
    QByteArray m_issuer;
};

/// The current key set of an identity provider, shared by the validators (JwtValidator::
/// withKeySet) and the client that fetches it. Every member is thread-safe and non-blocking.
class JwksKeyStore {
public:
    /// `minRefreshInterval`: the least time between two refreshes asked for by requestRefresh().
    explicit JwksKeyStore(std::chrono::milliseconds minRefreshInterval = 30s);

    /// The current key set; null until one was loaded.
    std::shared_ptr<const JwtKeySet> current() const;
    /// Replaces the key set (atomically for readers: they keep the snapshot they hold).
    void publish(std::shared_ptr<const JwtKeySet> keys);

    /// Asks for a refresh because a token named a key the set does not have. Calls the refresh
    /// handler (which must only post work, not block), unless a fetch is under way, no handler
    /// is set, or the previous such refresh was less than minRefreshInterval ago. True if it
    /// was called.
    bool requestRefresh();
    /// Set by the fetching client (empty: none); called with the store's lock held.
    void setRefreshHandler(std::function<void()> handler);
    /// Told by the client, so that a refresh is not asked for while a fetch runs anyway.
    void setFetching(bool fetching);

    /// How many times requestRefresh() called the handler.
    int refreshRequests() const;

private:
    mutable std::mutex m_mutex;
    std::shared_ptr<const JwtKeySet> m_keys;
    std::function<void()> m_handler;
    std::chrono::milliseconds m_minRefreshInterval;
    std::optional<std::chrono::steady_clock::time_point> m_lastRequest;
    bool m_fetching = false;
    int m_refreshRequests = 0;
};

struct JwksClientOptions {
    /// OpenID Connect issuer URL: GET {authority}/.well-known/openid-configuration gives
    /// `jwks_uri` and `issuer`. Exclusive with jwksUrl.
    QUrl authority;
    QUrl jwksUrl; ///< a JWK Set, fetched directly
    std::chrono::milliseconds refreshInterval = 1h; ///< scheduled refresh after a success
    std::chrono::milliseconds minRefreshInterval = 30s; ///< see JwksKeyStore
    std::chrono::milliseconds fetchTimeout = 10s; ///< per request, from start to the last byte
    qsizetype maxResponseSize = JwtKeySet::MaxDocumentSize; ///< per response body
    /// After a failure: retry after initialRetryDelay, doubling up to maxRetryDelay (and never
    /// later than refreshInterval).
    std::chrono::milliseconds initialRetryDelay = 1s;
    std::chrono::milliseconds maxRetryDelay = 5min;
};

/// Fetches an identity provider's keys into a JwksKeyStore. Lives on the thread that creates it,
/// which must run an event loop; does nothing that blocks.
class JwksClient : public QObject {
    Q_OBJECT

public:
    /// Empty if `url` may be fetched: https, or http to a loopback host (127.0.0.0/8, ::1,
    /// localhost; for tests). Otherwise why not, naming `what` ("jwt-authority").
    static QString checkUrl(const QUrl &url, const QString &what);

    explicit JwksClient(JwksClientOptions options, QObject *parent = nullptr);
    ~JwksClient() override;

    const std::shared_ptr<JwksKeyStore> &store() const noexcept { return m_store; }
    const JwksClientOptions &options() const noexcept { return m_options; }

    /// Starts the first fetch (then retries and refreshes by themselves).
    void start();
    /// Fetches now, unless a fetch is under way.
    void refresh();

    bool isFetching() const noexcept { return m_reply != nullptr; }
    /// The last failure's message; empty after a success.
    QString lastError() const { return m_lastError; }
    /// Number of HTTP requests started (discovery and key sets).
    int requestCount() const noexcept { return m_requests; }

Q_SIGNALS:
    /// A new key set was published.
    void keysUpdated();
    /// A fetch failed; the previous key set (if any) stays in use.
    void fetchFailed(const QString &error);

private:
    enum class Stage { Discovery, Keys };

    void get(Stage stage, const QUrl &url);
    void finished();
    void succeeded(const QByteArray &body);
    void failed(const QString &reason);
    QUrl discoveryUrl() const;

    JwksClientOptions m_options;
    std::shared_ptr<JwksKeyStore> m_store;
    QNetworkAccessManager *m_network = nullptr;
    QTimer m_schedule; ///< the next refresh or retry
    QTimer m_deadline; ///< the running request's timeout
    QNetworkReply *m_reply = nullptr; ///< the running request (a child of m_network)
    Stage m_stage = Stage::Keys;
    QUrl m_url; ///< of the running request
    QByteArray m_body;
    QString m_abortReason;
    QUrl m_jwksUrl; ///< from the options or from discovery
    QByteArray m_issuer; ///< from discovery
    QString m_lastError;
    QStringList m_lastSkipped;
    int m_failures = 0;
    int m_requests = 0;
};

} // namespace Heliograph::Server
