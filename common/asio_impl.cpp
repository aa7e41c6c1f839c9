// Compiles Asio and Beast once for every target (BOOST_*_SEPARATE_COMPILATION is PUBLIC on
// duijie_common), instead of in every translation unit that includes them.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
