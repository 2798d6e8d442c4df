"""A tiny, randomly initialised model folder in the real format.

Unit tests, service tests and benchmarks of the plumbing need a model that loads in milliseconds and needs
no download; building it through :func:`save_model_folder` keeps it identical in shape to a trained one.
"""

from __future__ import annotations

from pathlib import Path

import torch

from narrascope.labels import Taxonomy, load_taxonomy
from narrascope.training.package import configure_labels, save_model_folder

# Plain sentences in the four languages, public so tests can build documents in the tokenizer's vocabulary.
SAMPLE_SENTENCES = [
    "Kazakhstan is not preparing for war, the Ministry of Defense said.",
    "The law on territorial defence creates self-defence units of citizen volunteers.",
    "Казахстан не готовится к войне, заявили в Министерстве обороны.",
    "Закон о территориальной обороне создаёт формирования самообороны из добровольцев.",
    "Қазақстан соғысқа дайындалып жатқан жоқ, деді Қорғаныс министрлігі.",
    "Аумақтық қорғаныс туралы заң еріктілерден өзін-өзі қорғау құралымдарын құрады.",
    "Казахстан не готується до війни, заявили в Міноборони.",
    "Закон про територіальну оборону створює формування самооборони з добровольців.",
]
_KEYWORDS = [
    "Brigades, border, Russia, NATO, Turkey, president, peace, army, mercenaries, foreigners.",
    "Бригады, граница, Россия, НАТО, Турция, президент, мир, армия, наёмники, иностранцы.",
]


def build_tiny_tokenizer(vocab_size: int = 600, extra_words: list[str] | None = None):  # noqa: ANN201
    """An XLM-R-shaped Unigram tokenizer trained in memory on a few sentences of each language.

    ``extra_words`` (the label ids) become whole pieces, which lets tests build data a tiny model can learn.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>")
    corpus = (SAMPLE_SENTENCES + _KEYWORDS) * 3 + [" ".join(extra_words or [])] * 20
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        cls_token="<s>",
        sep_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
        model_max_length=512,
    )


def build_tiny_model(taxonomy: Taxonomy, vocab_size: int, seed: int = 0):  # noqa: ANN201
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        max_position_embeddings=512,
        pad_token_id=1,
    )
    configure_labels(config, taxonomy)
    return BertForSequenceClassification(config)


def build_tiny_model_dir(output: Path, taxonomy: Taxonomy | None = None, seed: int = 0) -> Path:
    taxonomy = taxonomy or load_taxonomy()
    tokenizer = build_tiny_tokenizer(extra_words=taxonomy.ids)
    model = build_tiny_model(taxonomy, len(tokenizer), seed)
    return save_model_folder(
        Path(output),
        model,
        tokenizer,
        taxonomy,
        thresholds={label: 0.5 for label in taxonomy.ids},
        metadata={"base_model": "tiny-random-bert", "mode": "random", "model_version": "tiny-0"},
        max_length=64,
        model_name="tiny-random",
    )
