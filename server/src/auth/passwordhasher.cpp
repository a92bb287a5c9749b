// SPDX-License-Identifier: MIT
#include "auth/passwordhasher.h"

#include "auth/jwt_p.h"

#include <argon2.h>
#include <openssl/err.h>
#include <openssl/rand.h>

using namespace Qt::StringLiterals;

namespace Heliograph::Server {

namespace {

constexpr quint32 MaxMemoryKiB = 4 * 1024 * 1024; // 4 GiB
constexpr quint32 MaxIterations = 1000;
constexpr quint32 MaxParallelism = 16;

bool randomBytes(QByteArray &out, qsizetype size)
{
    out.resize(size);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(out.data()), int(size)) != 1) {
        ERR_clear_error();
        return false;
    }
    return true;
}

} // namespace

PasswordHasher::PasswordHasher(Argon2Parameters parameters)
    : m_parameters(parameters)
{
    setDummyParameters(m_parameters);
}

void PasswordHasher::setDummyParameters(const Argon2Parameters &parameters)
{
    // The dummy hash: a random password nobody knows, hashed once with these parameters.
    m_dummyParameters = parameters;
    m_dummyHash.clear();
    QByteArray secret;
    if (checkParameters(parameters).isEmpty() && randomBytes(secret, 32)) {
        const QByteArray password = Detail::base64UrlEncode(secret);
        QByteArray salt;
        if (randomBytes(salt, SaltSize))
            if (auto h = hashWithSalt(password, salt, parameters))
                m_dummyHash = *h;
        Detail::wipe(secret);
    }
}

std::optional<Argon2Parameters> PasswordHasher::parametersOf(QByteArrayView phc)
{
    // $argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>
    const QList<QByteArray> parts = phc.toByteArray().split('$');
    if (parts.size() != 6 || !parts[0].isEmpty() || parts[1] != "argon2id")
        return std::nullopt;
    Argon2Parameters p;
    int seen = 0;
    for (const QByteArray &field : parts[3].split(',')) {
        if (field.size() < 3 || field[1] != '=')
            return std::nullopt;
        bool ok = false;
        const uint value = field.sliced(2).toUInt(&ok);
        if (!ok)
            return std::nullopt;
        switch (field[0]) {
        case 'm':
            p.memoryKiB = value, seen |= 1;
            break;
        case 't':
            p.iterations = value, seen |= 2;
            break;
        case 'p':
            p.parallelism = value, seen |= 4;
            break;
        default:
            return std::nullopt;
        }
    }
    if (seen != 7)
        return std::nullopt;
    return p;
}

bool PasswordHasher::needsRehash(QByteArrayView phc) const
{
    const auto p = parametersOf(phc);
    return !p || *p != m_parameters;
}

QString PasswordHasher::checkParameters(const Argon2Parameters &p)
{
    if (p.parallelism < 1 || p.parallelism > MaxParallelism)
        return u"The Argon2 parallelism must be between 1 and %1."_s.arg(MaxParallelism);
    if (p.iterations < 1 || p.iterations > MaxIterations)
        return u"The Argon2 iterations must be between 1 and %1."_s.arg(MaxIterations);
    if (p.memoryKiB < 8 * p.parallelism || p.memoryKiB > MaxMemoryKiB)
        return u"The Argon2 memory must be between 8 KiB per lane and %1 KiB."_s.arg(MaxMemoryKiB);
    return {};
}

AuthResult<QByteArray> PasswordHasher::hash(QByteArrayView password) const
{
    QByteArray salt;
    if (!randomBytes(salt, SaltSize))
        return AuthError {u"The random number generator failed."_s};
    return hashWithSalt(password, salt, m_parameters);
}

AuthResult<QByteArray> PasswordHasher::hashWithSalt(QByteArrayView password, QByteArrayView salt,
                                                    const Argon2Parameters &p)
{
    if (const QString why = checkParameters(p); !why.isEmpty())
        return AuthError {why};
    if (password.size() > MaxPasswordSize)
        return AuthError {u"The password is longer than %1 bytes."_s.arg(MaxPasswordSize)};
    if (salt.size() < qsizetype(ARGON2_MIN_SALT_LENGTH) || salt.size() > 64)
        return AuthError {u"The salt must have 8 to 64 bytes."_s};
    const size_t encodedSize = argon2_encodedlen(p.iterations, p.memoryKiB, p.parallelism,
                                                 uint32_t(salt.size()), HashSize, Argon2_id);
    QByteArray encoded(qsizetype(encodedSize), '\0');
    const int rc = argon2id_hash_encoded(p.iterations, p.memoryKiB, p.parallelism, password.data(),
                                         size_t(password.size()), salt.data(), size_t(salt.size()),
                                         HashSize, encoded.data(), encodedSize);
    if (rc != ARGON2_OK)
        return AuthError {
            u"Argon2id failed: %1"_s.arg(QLatin1StringView(argon2_error_message(rc)))};
    encoded.truncate(qsizetype(qstrnlen(encoded.constData(), size_t(encoded.size()))));
    return encoded;
}

bool PasswordHasher::verify(QByteArrayView phc, QByteArrayView password)
{
    if (!phc.startsWith("$argon2id$") || password.size() > MaxPasswordSize || phc.size() > 512)
        return false;
    const QByteArray terminated = phc.toByteArray(); // argon2 wants a C string
    return argon2id_verify(terminated.constData(), password.data(), size_t(password.size()))
        == ARGON2_OK;
}

void PasswordHasher::verifyDummy(QByteArrayView password) const
{
    [[maybe_unused]] const bool never
        = verify(m_dummyHash, password.first(qMin(password.size(), MaxPasswordSize)));
}

} // namespace Heliograph::Server
