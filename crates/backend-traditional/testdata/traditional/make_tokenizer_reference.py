#!/usr/bin/env python3
"""scikit-learn's tokenization on many scripts, and Python's character classes, for the Rust tests
(tests/traditional_tokenizer.rs). Run once; the output is committed.

    python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn==1.9.1
    /tmp/skl/bin/python crates/backend-traditional/testdata/traditional/make_tokenizer_reference.py

Writes, next to this file:

- tokenizer_sklearn.json: for each sample (Hindi, Bengali, Tamil, Thai, Arabic, Chinese,
  Russian, Greek, emoji and symbols, combining accents, whitespace), the texts, what
  `CountVectorizer().build_analyzer()` gives for each text, `CountVectorizer().fit(texts).vocabulary_`
  and `TfidfVectorizer(analyzer="char", ngram_range=(2, 3)).fit(texts).vocabulary_`.
  The Hindi sample is labelled (six question types, as TREC's coarse classes) so the tests can
  also compare classifiers.
- python_classes.json: every code point's membership of `re`'s `\\w` and `\\s` (str patterns), as
  inclusive ranges found with `re.match`, the code points assigned in this Python's Unicode
  version (general category not Cn), and every code point whose `str.lower()` is not itself.

The sentences were written for these tests (no download: only package registries are reachable).
"""
import json
import os
import re
import sys
import unicodedata

import sklearn
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
TIGHT = dict(C=1.0, solver="lbfgs", tol=1e-10, max_iter=100000)

# Hindi questions with a coarse question type (TREC's classes: LOC, HUM, NUM, DESC, ENTY, ABBR).
HINDI = [
    ("भारत की राजधानी कहाँ है?", "LOC"),
    ("ताजमहल किस शहर में स्थित है?", "LOC"),
    ("गंगा नदी का उद्गम स्थान कहाँ है?", "LOC"),
    ("माउंट एवरेस्ट किस देश की सीमा पर है?", "LOC"),
    ("दुनिया का सबसे बड़ा रेगिस्तान कहाँ पाया जाता है?", "LOC"),
    ("कुतुब मीनार किस शहर में है?", "LOC"),
    ("अमेज़न नदी किस महाद्वीप में बहती है?", "LOC"),
    ("हिमालय पर्वत किस दिशा में फैला हुआ है?", "LOC"),
    ("भारत के पहले प्रधानमंत्री कौन थे?", "HUM"),
    ("गीतांजलि किसने लिखी थी?", "HUM"),
    ("टेलीफ़ोन का आविष्कार किसने किया?", "HUM"),
    ("राष्ट्रपिता किसे कहा जाता है?", "HUM"),
    ("अंतरिक्ष में जाने वाली पहली भारतीय महिला कौन थीं?", "HUM"),
    ("भारतीय संविधान के निर्माता कौन माने जाते हैं?", "HUM"),
    ("क्रिकेट में सबसे अधिक शतक किस खिलाड़ी ने बनाए हैं?", "HUM"),
    ("हिंदी फ़िल्मों का शहंशाह किसे कहते हैं?", "HUM"),
    ("एक साल में कितने दिन होते हैं?", "NUM"),
    ("भारत की जनसंख्या कितनी है?", "NUM"),
    ("पृथ्वी से चंद्रमा की दूरी कितनी है?", "NUM"),
    ("भारत को आज़ादी किस वर्ष मिली?", "NUM"),
    ("एक किलोमीटर में कितने मीटर होते हैं?", "NUM"),
    ("ताजमहल बनाने में कितने साल लगे?", "NUM"),
    ("मानव शरीर में कितनी हड्डियाँ होती हैं?", "NUM"),
    ("१९४७ में भारत की जनसंख्या कितनी थी?", "NUM"),
    ("प्रकाश संश्लेषण क्या होता है?", "DESC"),
    ("लोकतंत्र का अर्थ क्या है?", "DESC"),
    ("इंद्रधनुष कैसे बनता है?", "DESC"),
    ("भूकंप क्यों आते हैं?", "DESC"),
    ("आकाश नीला क्यों दिखाई देता है?", "DESC"),
    ("कंप्यूटर वायरस क्या होता है?", "DESC"),
    ("बारिश कैसे होती है?", "DESC"),
    ("योग करने से क्या लाभ होते हैं?", "DESC"),
    ("भारत का राष्ट्रीय पशु कौन सा है?", "ENTY"),
    ("सबसे तेज़ दौड़ने वाला जानवर कौन सा है?", "ENTY"),
    ("टेस्ट क्रिकेट में किस रंग की गेंद का उपयोग होता है?", "ENTY"),
    ("भारत का राष्ट्रीय फूल कौन सा है?", "ENTY"),
    ("दूध में कौन सा विटामिन पाया जाता है?", "ENTY"),
    ("होली किस ऋतु में मनाई जाती है?", "ENTY"),
    ("सौरमंडल का सबसे बड़ा ग्रह कौन सा है?", "ENTY"),
    ("चाय में कौन सा पदार्थ नींद भगाता है?", "ENTY"),
    ("इसरो का पूरा नाम क्या है?", "ABBR"),
    ("डीएनए का पूरा रूप क्या है?", "ABBR"),
    ("यूएनओ का मतलब क्या है?", "ABBR"),
    ("एम्स किसका संक्षिप्त रूप है?", "ABBR"),
    ("आरबीआई का विस्तार क्या है?", "ABBR"),
    ("भाजपा का पूरा नाम क्या है?", "ABBR"),
    ("जीएसटी का पूरा रूप बताइए।", "ABBR"),
    ("नासा किसका संक्षिप्त नाम है?", "ABBR"),
]

SAMPLES = {
    "hindi": [t for t, _ in HINDI] + [
        "भारत को १५ अगस्त १९४७ को स्वतंत्रता मिली।",
        "क्या COVID-19 एक वायरस है? हाँ, यह ख़तरनाक है।",
        "ॐ नमः शिवाय॥",
    ],
    "bengali": [
        "বাংলাদেশের রাজধানী ঢাকা।",
        "রবীন্দ্রনাথ ঠাকুর নোবেল পুরস্কার পেয়েছিলেন।",
        "আমি প্রতিদিন সকালে চা পান করি।",
        "কলকাতা পশ্চিমবঙ্গের সবচেয়ে বড় শহর।",
        "বর্ষাকালে প্রচুর বৃষ্টি হয়।",
        "তুমি কোথায় যাচ্ছ?",
        "আমাদের বিদ্যালয়ে ৫০০ জন ছাত্র পড়ে।",
        "ভাষা আন্দোলন ১৯৫২ সালে হয়েছিল।",
        "হঠাৎ বৃষ্টি শুরু হলো।",
    ],
    "tamil": [
        "தமிழ்நாட்டின் தலைநகரம் சென்னை.",
        "நான் தினமும் காலையில் காபி குடிப்பேன்.",
        "திருவள்ளுவர் திருக்குறளை எழுதினார்.",
        "இன்று வானிலை மிகவும் வெப்பமாக உள்ளது.",
        "உங்கள் பெயர் என்ன?",
        "மதுரை மீனாட்சி அம்மன் கோவில் புகழ்பெற்றது.",
        "குழந்தைகள் பூங்காவில் விளையாடுகிறார்கள்.",
        "அவர் ௨௦௨௪ ஆம் ஆண்டு பட்டம் பெற்றார்.",
    ],
    "thai": [
        "ประเทศไทยมีจังหวัดทั้งหมด 77 จังหวัด",
        "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
        "ฉันชอบกินข้าวผัดกะเพรา",
        "วันนี้อากาศร้อนมาก",
        "คุณชื่ออะไรครับ",
        "เชียงใหม่อยู่ทางภาคเหนือ",
        "นักเรียนกำลังอ่านหนังสือในห้องสมุด",
        "ราคา ๑๐๐ บาท",
    ],
    "arabic": [
        "القاهرة هي عاصمة مصر.",
        "أحب قراءة الكتب في المساء.",
        "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ.",
        "كم عدد سكان المملكة العربية السعودية؟",
        "ذهب الطلاب إلى المدرسة صباحاً.",
        "وُلِدَ المتنبي في الكوفة.",
        "الأرقام ١٢٣ و٤٥٦ مكتوبة بالعربية.",
        "هذا كتـــاب جميل.",
    ],
    "chinese": [
        "北京是中国的首都。",
        "我每天早上喝一杯咖啡。",
        "今天天气很好，我们去公园散步吧！",
        "长城是世界上最长的建筑之一。",
        "你叫什么名字？",
        "他在2023年大学毕业。",
        "三人行，必有我师焉。",
        "全角字母ＡＢＣ１２３和半角ABC123。",
    ],
    "russian": [
        "Москва — столица России.",
        "Я люблю читать книги по вечерам.",
        "Сколько стоит этот билет?",
        "Ёлка стоит в углу комнаты.",
        "Лев Толстой написал «Войну и мир».",
        "В 2024 году зима была тёплой.",
        "Объявление о съезде висит на двери.",
        "Пётр Ильич Чайковский — великий композитор.",
    ],
    "greek": [
        "ΟΔΥΣΣΕΥΣ ΚΑΙ ΠΗΝΕΛΟΠΗ",
        "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
        "ΣΟΦΟΣ ΑΝΘΡΩΠΟΣ",
        "Ο Σωκράτης ήταν φιλόσοφος.",
        "ΌΛΟΙ ΟΙ ΆΝΘΡΩΠΟΙ ΓΕΝΝΙΟΎΝΤΑΙ ΕΛΕΎΘΕΡΟΙ",
        "Σ ΣΣ ΑΣ ΑΣ1 ΑΣ. Σ'ΑΓΑΠΩ ΑΣ'Α",
        "\u0391\u0301\u039d\u0398\u03a1\u03a9\u03a0\u039f\u03a3 (NFD)",
    ],
    "emoji_symbols": [
        "I \u2764\ufe0f NY 😀😀 👍🏽 good",
        "🇮🇳 India 👨\u200d👩\u200d👧 family",
        "ⓐⓑⓒ circled Ⓐ and ⒜ parenthesised",
        "x²³ ½ Ⅷ km² 10³ ⅷ",
        "ǅemal ǈubljana ﬁnance STRASSE Straße ẞ",
        "İstanbul KIRMIZI ıi",
        "snake_case __init__ a_b _x",
    ],
    "combining": [
        "cafe\u0301 nai\u0308ve re\u0301sume\u0301",
        "café naïve résumé",
        "Ame\u0301lie A\u0300 la carte",
        "n\u0303 an\u0303o man\u0303ana",
        "zalgo z\u0336a\u0334l\u0337g\u0338o",
    ],
    "whitespace": [
        "aa\x1cbb cc\x1f\x1fdd",
        "ee\x85ff gg\u2028\u2029hh",
        "ii\u3000\u3000jj kk\u00a0ll",
        "mm\u200bnn oo\u180epp",
        "qq\t\nrr ss \u00a0tt",
        "uu\u2003vv\u205fww\u1680xx",
    ],
}


def dump(name, obj):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def ranges(pred):
    out, start = [], None
    for cp in range(0x110000):
        if pred(chr(cp)):
            if start is None:
                start = cp
        elif start is not None:
            out.append([start, cp - 1])
            start = None
    if start is not None:
        out.append([start, 0x10FFFF])
    return out


def classes():
    w, s = re.compile(r"\w"), re.compile(r"\s")
    lower = {}
    for cp in range(0x110000):
        ch = chr(cp)
        if ch.lower() != ch:
            lower[f"{cp:X}"] = [ord(c) for c in ch.lower()]
    dump("python_classes.json", {
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "word": ranges(lambda ch: w.match(ch) is not None),
        "space": ranges(lambda ch: s.match(ch) is not None),
        "assigned": ranges(lambda ch: unicodedata.category(ch) != "Cn"),
        "lower": lower,
    })


def tokenizer_reference():
    out = {"sklearn": sklearn.__version__, "python": sys.version.split()[0],
           "unicode": unicodedata.unidata_version, "samples": {}}
    for name, texts in SAMPLES.items():
        words = CountVectorizer()
        analyze = words.build_analyzer()
        chars = TfidfVectorizer(analyzer="char", ngram_range=(2, 3))
        out["samples"][name] = {
            "texts": texts,
            "tokens": [analyze(t) for t in texts],
            "vocabulary": {t: int(j) for t, j in words.fit(texts).vocabulary_.items()},
            "char_vocabulary": {t: int(j) for t, j in chars.fit(texts).vocabulary_.items()},
        }
        if name == "whitespace":
            out["samples"][name]["char_ngrams"] = [chars.build_analyzer()(t) for t in texts]
        print(name, "texts", len(texts), "vocabulary", len(words.vocabulary_))
    out["samples"]["hindi"]["labels"] = [l for _, l in HINDI] + [None] * (len(SAMPLES["hindi"]) - len(HINDI))
    # Leave-one-out question-type classification of the 48 labelled questions, CountVectorizer()
    # + LogisticRegression at a tight tolerance (the optimum).
    texts, labels = [t for t, _ in HINDI], [l for _, l in HINDI]
    loo = []
    for held in range(len(texts)):
        train = [i for i in range(len(texts)) if i != held]
        vec = CountVectorizer()
        x = vec.fit_transform([texts[i] for i in train])
        lr = LogisticRegression(**TIGHT).fit(x, [labels[i] for i in train])
        loo.append(str(lr.predict(vec.transform([texts[held]]))[0]))
    acc = sum(p == g for p, g in zip(loo, labels)) / len(labels)
    out["samples"]["hindi"]["leave_one_out"] = {"settings": TIGHT, "predictions": loo, "accuracy": acc}
    print("hindi leave-one-out accuracy", acc)
    dump("tokenizer_sklearn.json", out)


if __name__ == "__main__":
    tokenizer_reference()
    classes()
