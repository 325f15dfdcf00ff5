// elf.cpp — the dynamic symbols a 64-bit ELF shared object defines, read
// from its section headers (what `nm -D --defined-only` prints).
#include "kit.hpp"

#include <elf.h>

#include <cstring>
#include <fstream>

namespace kit {

std::vector<ElfSymbol> exported_symbols(const std::string &path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) fail("cannot read " + path);
    std::vector<char> data(static_cast<size_t>(in.tellg()));
    in.seekg(0);
    if (!in.read(data.data(), static_cast<std::streamsize>(data.size()))) fail("cannot read " + path);
    auto at = [&](uint64_t off, uint64_t size) -> const char * {
        if (off > data.size() || size > data.size() - off) fail(path + ": truncated or not an ELF file");
        return data.data() + off;
    };
    Elf64_Ehdr eh;
    std::memcpy(&eh, at(0, sizeof eh), sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) fail(path + " is not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64) fail(path + " is not a 64-bit ELF file");
    if (eh.e_shentsize != sizeof(Elf64_Shdr)) fail(path + ": unexpected section header size");

    std::vector<Elf64_Shdr> sections(eh.e_shnum);
    for (size_t i = 0; i < sections.size(); ++i)
        std::memcpy(&sections[i], at(eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(Elf64_Shdr)), sizeof(Elf64_Shdr));

    std::vector<ElfSymbol> out;
    for (const auto &sh : sections) {
        if (sh.sh_type != SHT_DYNSYM) continue;
        if (sh.sh_link >= sections.size()) fail(path + ": bad .dynsym link");
        const Elf64_Shdr &strtab = sections[sh.sh_link];
        const char *strings = at(strtab.sh_offset, strtab.sh_size);
        const size_t count = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 1; i < count; ++i) {
            Elf64_Sym sym;
            std::memcpy(&sym, at(sh.sh_offset + i * sh.sh_entsize, sizeof sym), sizeof sym);
            const unsigned bind = ELF64_ST_BIND(sym.st_info);
            if (sym.st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK)) continue;
            if (ELF64_ST_VISIBILITY(sym.st_other) != STV_DEFAULT && ELF64_ST_VISIBILITY(sym.st_other) != STV_PROTECTED)
                continue;
            if (sym.st_name >= strtab.sh_size) fail(path + ": bad symbol name offset");
            ElfSymbol s;
            s.name = strings + sym.st_name;
            s.object = ELF64_ST_TYPE(sym.st_info) == STT_OBJECT;
            s.size = sym.st_size;
            out.push_back(std::move(s));
        }
    }
    return out;
}

} // namespace kit
