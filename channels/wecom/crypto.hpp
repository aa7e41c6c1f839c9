#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "common/digest.hpp"
#include "common/error.hpp"

namespace duijie::channels::wecom {

/// The WeCom callback library's error codes (identical in every official port), so logs and
/// tests speak the vocabulary of the WeCom documentation.
enum class CryptoErrc {
  kValidateSignature = -40001,
  kParseXml = -40002,
  kComputeSignature = -40003,
  kIllegalAesKey = -40004,
  kValidateReceiveId = -40005,
  kEncryptAes = -40006,
  kDecryptAes = -40007,
  kIllegalBuffer = -40008,
  kEncodeBase64 = -40009,
  kDecodeBase64 = -40010,
  kGenReturnXml = -40011,
};

const std::error_category& CryptoCategory() noexcept;
std::error_code make_error_code(CryptoErrc e) noexcept;  // NOLINT(readability-identifier-naming): ADL hook

/// What a ciphertext decrypts to: the message and the receive id it was sealed for.
struct Opened {
  std::string message;
  std::string receive_id;
};

/// WeCom's callback cryptography (Doc 91144): SHA-1 signature over the sorted token, timestamp,
/// nonce and ciphertext; AES-256-CBC with the IV taken from the key and a 32-byte PKCS#7 pad
/// applied by hand; plaintext = random(16) ‖ big-endian length ‖ message ‖ receive id.
class Crypto {
 public:
  /// Validates the 43-character EncodingAESKey (decoded leniently: most real keys have a
  /// non-canonical last character) and keeps the token and the expected receive id (the CorpID
  /// for a self-built app, empty for an internal intelligent robot).
  static Result<Crypto> Create(std::string token, std::string_view encoding_aes_key, std::string receive_id);

  /// 40 lowercase hex characters.
  [[nodiscard]] std::string Sign(std::string_view timestamp, std::string_view nonce, std::string_view encrypt) const;
  /// Constant-time comparison with the signature WeCom sent.
  [[nodiscard]] bool Verify(std::string_view signature, std::string_view timestamp, std::string_view nonce,
                            std::string_view encrypt) const;

  /// Decrypts without checking the receive id. Every length is bounds-checked; the message is
  /// returned as bytes (it may be any UTF-8, or garbage if the peer is hostile).
  [[nodiscard]] Result<Opened> Open(std::string_view encrypt) const;
  /// Decrypts and requires the configured receive id.
  [[nodiscard]] Result<std::string> Decrypt(std::string_view encrypt) const;

  /// Base64 ciphertext of `message` for the configured receive id, with the given 16-byte prefix.
  [[nodiscard]] std::string Encrypt(std::string_view message, std::span<const std::uint8_t, 16> random) const;
  /// The same with a prefix from the operating system's CSPRNG.
  [[nodiscard]] std::string Encrypt(std::string_view message) const;

  /// The encrypted passive-reply body: <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>.
  [[nodiscard]] std::string ReplyXml(std::string_view message, std::string_view timestamp,
                                     std::string_view nonce) const;

  [[nodiscard]] const std::string& ReceiveId() const { return receive_id_; }

 private:
  Crypto(std::string token, std::array<std::uint8_t, 32> key, std::string receive_id)
      : token_(std::move(token)), key_(key), receive_id_(std::move(receive_id)) {}

  std::string token_;
  std::array<std::uint8_t, 32> key_;
  std::string receive_id_;
};

using ::duijie::Base64Decode;
using ::duijie::Base64Encode;

}  // namespace duijie::channels::wecom

template <>
struct std::is_error_code_enum<duijie::channels::wecom::CryptoErrc> : std::true_type {};
