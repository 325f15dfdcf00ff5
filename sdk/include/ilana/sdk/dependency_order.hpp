// ilana/sdk/dependency_order.hpp — objects in the order they can be created.
//
//   DependencyOrder  names ordered so that each comes after the names it
//                    depends on, otherwise in the given order: how a driver
//                    orders views that read views, or tables that reference
//                    tables, for "ilana.ddl/1".
//
// Header-only; depends on the C++17 standard library alone.
#ifndef ILANA_SDK_DEPENDENCY_ORDER_HPP
#define ILANA_SDK_DEPENDENCY_ORDER_HPP

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ilana::sdk {

// `names` in creation order: every name after those of `depends_on[name]`
// that are in `names` (others, and a name's dependency on itself, are
// ignored: they exist already or are not created here). Names keep their
// given order where dependencies allow. Throws std::runtime_error naming
// the objects of a cycle, which no order can create.
inline std::vector<std::string> dependency_order(const std::vector<std::string> &names,
                                                 const std::map<std::string, std::set<std::string>> &depends_on) {
    const std::set<std::string> known(names.begin(), names.end());
    std::map<std::string, int> state; // 0 new, 1 on the current path, 2 placed
    std::vector<std::string> out, path;
    struct Visit {
        const std::set<std::string> &known;
        const std::map<std::string, std::set<std::string>> &deps;
        std::map<std::string, int> &state;
        std::vector<std::string> &out, &path;
        void operator()(const std::string &n) {
            int &s = state[n];
            if (s == 2) return;
            if (s == 1) {
                std::string cycle;
                bool in = false;
                for (const auto &p : path) {
                    in = in || p == n;
                    if (in) cycle += p + " -> ";
                }
                throw std::runtime_error("circular dependency: " + cycle + n);
            }
            s = 1;
            path.push_back(n);
            if (auto it = deps.find(n); it != deps.end())
                for (const auto &d : it->second)
                    if (d != n && known.count(d) != 0) (*this)(d);
            path.pop_back();
            state[n] = 2;
            out.push_back(n);
        }
    } visit{known, depends_on, state, out, path};
    for (const auto &n : names) visit(n);
    return out;
}

} // namespace ilana::sdk

#endif // ILANA_SDK_DEPENDENCY_ORDER_HPP
