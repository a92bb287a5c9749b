// SPDX-License-Identifier: MIT
// The HS256 secret file in the data folder, shared by the server and `heliograph-server token`.
#include "auth/jwt.h"
#include "auth/jwt_p.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QTemporaryFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace Heliograph::Server {

namespace {

constexpr qsizetype GeneratedSecretSize = 32; // 256 bits
constexpr qsizetype MaxSecretFileSize = 4096;

QString systemError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

/// Closes a file descriptor on scope exit.
class Fd {
public:
    explicit Fd(int fd)
        : m_fd(fd)
    { }
    ~Fd()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    int get() const noexcept { return m_fd; }

private:
    int m_fd;
};

/// Reads and checks an existing secret file (already opened without following symlinks).
AuthResult<QByteArray> readSecret(int fd, const QString &path)
{
    struct stat st { };
    if (::fstat(fd, &st) != 0)
        return AuthError {u"Cannot inspect the secret file %1: %2"_s.arg(path, systemError(errno))};
    if (!S_ISREG(st.st_mode))
        return AuthError {u"The secret file %1 is not a regular file."_s.arg(path)};
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return AuthError {u"The secret file %1 is accessible by other users (mode %2); "
                          "restrict it to its owner (chmod 600)."_s.arg(
                              path, QString::number(st.st_mode & 07777, 8))};
    }
    if (st.st_size > MaxSecretFileSize)
        return AuthError {u"The secret file %1 is too large."_s.arg(path)};

    QByteArray text(MaxSecretFileSize + 1, Qt::Uninitialized);
    qsizetype length = 0;
    while (length < text.size()) {
        const ssize_t n = ::read(fd, text.data() + length, size_t(text.size() - length));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int error = errno;
            Detail::wipe(text);
            return AuthError {
                u"Cannot read the secret file %1: %2"_s.arg(path, systemError(error))};
        }
        if (n == 0)
            break;
        length += qsizetype(n);
    }
    QByteArray encoded = QByteArrayView(text).first(length).trimmed().toByteArray();
    Detail::wipe(text);
    std::optional<QByteArray> secret
        = length <= MaxSecretFileSize ? Detail::base64UrlDecode(encoded) : std::nullopt;
    Detail::wipe(encoded);
    if (!secret || secret->size() < Detail::MinSecretSize) {
        if (secret)
            Detail::wipe(*secret);
        return AuthError {
            u"The secret file %1 does not hold a base64url secret of at least %2 bytes; "
            "delete it to have a new one created."_s.arg(path,
                                                         QString::number(Detail::MinSecretSize))};
    }
    return std::move(*secret);
}

enum class CreateOutcome { Created, AlreadyExists, Failed };

/// Writes a new secret to a private temporary file, then hard-links it to `path`: link() never
/// replaces an existing file, so concurrent creators agree on the first one, and no reader
/// ever sees a partly written file.
CreateOutcome createSecret(const QString &dir, const QString &path, const QByteArray &text,
                           QString *error)
{
    QTemporaryFile temp(QDir(dir).filePath(u".jwt-secret-XXXXXX"_s)); // created with mode 0600
    if (!temp.open()) {
        *error = u"Cannot create a file in %1: %2"_s.arg(dir, temp.errorString());
        return CreateOutcome::Failed;
    }
    if (temp.write(text) != text.size() || !temp.flush() || ::fsync(temp.handle()) != 0) {
        *error = u"Cannot write the secret file in %1."_s.arg(dir);
        return CreateOutcome::Failed;
    }
    const QByteArray from = QFile::encodeName(temp.fileName());
    const QByteArray to = QFile::encodeName(path);
    if (::link(from.constData(), to.constData()) == 0)
        return CreateOutcome::Created;
    if (errno == EEXIST)
        return CreateOutcome::AlreadyExists;
    if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP) {
        *error = u"Cannot create the secret file %1: %2"_s.arg(path, systemError(errno));
        return CreateOutcome::Failed;
    }

    // A file system without hard links: exclusive creation (a concurrent reader could see the
    // file before it is complete, and would report it as invalid).
    const Fd fd(::open(to.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        if (errno == EEXIST)
            return CreateOutcome::AlreadyExists;
        *error = u"Cannot create the secret file %1: %2"_s.arg(path, systemError(errno));
        return CreateOutcome::Failed;
    }
    if (::write(fd.get(), text.constData(), size_t(text.size())) != ssize_t(text.size())
        || ::fsync(fd.get()) != 0) {
        *error = u"Cannot write the secret file %1: %2"_s.arg(path, systemError(errno));
        ::unlink(to.constData());
        return CreateOutcome::Failed;
    }
    return CreateOutcome::Created;
}

} // namespace

AuthResult<QByteArray> loadOrCreateSecret(const QString &dataDir)
{
    if (dataDir.isEmpty())
        return AuthError {u"No data folder for the secret file."_s};
    if (!QFileInfo::exists(dataDir)) {
        if (!QDir().mkpath(dataDir))
            return AuthError {u"Cannot create the data folder %1."_s.arg(dataDir)};
        QFile::setPermissions(dataDir,
                              QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                  | QFile::ReadUser | QFile::WriteUser | QFile::ExeUser);
    }
    const QString path = QDir(dataDir).filePath(QLatin1StringView(SecretFileName));
    const QByteArray nativePath = QFile::encodeName(path);

    // Two rounds: read an existing file, else create one; if another process created it in
    // between, read that one.
    for (int round = 0; round < 2; ++round) {
        const Fd fd(::open(nativePath.constData(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (fd.get() >= 0)
            return readSecret(fd.get(), path);
        if (errno != ENOENT)
            return AuthError {
                u"Cannot open the secret file %1: %2"_s.arg(path, systemError(errno))};
        if (round == 1)
            break;

        QByteArray secret(GeneratedSecretSize, Qt::Uninitialized);
        if (RAND_priv_bytes(reinterpret_cast<unsigned char *>(secret.data()), int(secret.size()))
            != 1) {
            ERR_clear_error();
            return AuthError {u"The random number generator failed."_s};
        }
        QByteArray text = Detail::base64UrlEncode(secret);
        text += '\n';
        QString error;
        const CreateOutcome outcome = createSecret(dataDir, path, text, &error);
        Detail::wipe(text);
        if (outcome == CreateOutcome::Created)
            return secret;
        Detail::wipe(secret);
        if (outcome == CreateOutcome::Failed)
            return AuthError {error};
    }
    return AuthError {u"The secret file %1 vanished while it was being read."_s.arg(path)};
}

} // namespace Heliograph::Server
