// Writes spm_tiny/tokenizer.model: a 320-piece SentencePiece BPE model with byte fallback,
// trained by libsentencepiece itself on a random corpus of a few English words, and prints the
// ids it gives for the texts test_tokenizer.cpp pins. Not part of the build. Corpus and run:
//   python3 -c "import random; random.seed(1); w='the cat sat on mat and dog ran far away from
//     home while birds sang in trees at dawn every day'.split(); f=open('corpus.txt','w');
//     [f.write(' '.join(random.choice(w) for _ in range(random.randint(4,12)))+'\n')
//      for i in range(400)]"
//   g++ -std=c++17 make_spm_tiny.cpp -lsentencepiece -lsentencepiece_train && ./a.out
//   mv tiny.model spm_tiny/tokenizer.model
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <iostream>

int main() {
  auto s = sentencepiece::SentencePieceTrainer::Train(
      "--input=corpus.txt --model_prefix=tiny --vocab_size=320 --model_type=bpe --byte_fallback=true "
      "--character_coverage=1.0 --minloglevel=2 --normalization_rule_name=identity");
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  sentencepiece::SentencePieceProcessor p;
  if (!p.Load("tiny.model").ok()) return 1;
  for (const char* t : {"the cat sat on the mat", "dogs ran\nhome", "h\xC3\xA9llo 7"}) {
    std::cout << t << ":";
    for (int id : p.EncodeAsIds(t)) std::cout << " " << id;
    std::cout << "\n";
  }
}
