// WeCom callback cryptography on hostile input: the signature check, base64, AES-CBC with the
// 32-byte PKCS#7 padding and the length field. Input: signature \0 timestamp \0 nonce \0 encrypt.
#include "channels/wecom/crypto.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wecom = duijie::channels::wecom;
  // The official sample's public test settings (specs/wecom.md §2, set B).
  static const auto crypto = wecom::Crypto::Create("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
                                                   "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "ww1436e0e65a779aee");
  const auto parts = duijie::fuzz::Split(duijie::fuzz::Text(data, size), 4);
  (void)crypto->Verify(parts[0], parts[1], parts[2], parts[3]);
  (void)crypto->Open(parts[3]);
  (void)crypto->Decrypt(parts[3]);
  // A key from outside (config) goes through the lenient decoder too.
  (void)wecom::Crypto::Create("token", parts[0], "corp");
  return 0;
}
