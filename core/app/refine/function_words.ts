/**
 * The words that decide where a line may break, per language, for languages other than English
 * (English has a part-of-speech tagger, see break_points.ts). The style guides' rules: break after
 * punctuation, before a conjunction or preposition; never between an article and its noun, a
 * preposition and its object, a pronoun or negation and its verb. Short closed classes, so lists
 * do the job a tagger would; words that belong to two classes sit in the stricter one.
 */

export interface FunctionWords {
  /** A line must not end with these: articles, determiners, possessives ("der | Hund"). */
  bindNext: ReadonlySet<string>;
  /** A line should not end with these: subject and clitic pronouns, negation ("se | fue", "ne | sais"). */
  leanNext: ReadonlySet<string>;
  /** Prepositions: a good break before one, a bad one after it. */
  prepositions: ReadonlySet<string>;
  /** Conjunctions, relative and question words that open a clause: a good break before one. */
  openClause: ReadonlySet<string>;
  /** A line must not start with these: particles that close what comes before them (Japanese は, Chinese 的). */
  bindPrevious: ReadonlySet<string>;
  /**
   * German capitalises every noun: two capitalised words in a row are no sign of a name, and an
   * inflected lower-case word before a capitalised one is most likely its adjective.
   */
  capitalisesNouns: boolean;
}

const words = (list: string): ReadonlySet<string> => new Set(list.split(/\s+/).filter((word) => word !== ""));
const NONE = words("");

const GERMAN: FunctionWords = {
  bindNext: words(`der die das den dem des ein eine einen einem einer eines kein keine keinen keinem keiner keines
    mein meine meinen meinem meiner meines dein deine deinen deinem deiner deines sein seine seinen seinem seiner seines
    unser unsere unseren unserem unserer unseres euer eure euren eurem eurer eures ihre ihren ihrem ihrer ihres
    dieser diese dieses diesen diesem jener jene jenes jenen jenem jeder jede jedes jeden jedem welcher welches manche mancher
    einige einigen einiger mehrere mehreren viele vielen wenige wenigen solche solchen solcher`),
  leanNext: words("ich du er wir ihr sie es man sich nicht"),
  prepositions: words(`in im ins an am ans auf aufs aus bei beim mit nach seit von vom zu zum zur für fürs durch gegen ohne um
    unter über vor hinter neben zwischen wegen trotz statt bis gegenüber außer entlang innerhalb außerhalb`),
  openClause: words(`und oder aber denn sondern doch dass daß weil wenn als ob obwohl obgleich damit bevor ehe nachdem sobald solange
    falls indem sodass seitdem während wie wo wohin woher warum weshalb wieso welche deshalb darum trotzdem dennoch`),
  bindPrevious: NONE,
  capitalisesNouns: true,
};

const SPANISH: FunctionWords = {
  bindNext: words(`el la los las un una unos unas lo al del mi mis tu tus su sus nuestro nuestra nuestros nuestras vuestro vuestra
    vuestros vuestras este esta estos estas ese esa esos esas aquel aquella aquellos aquellas cada cuyo cuya cuyos cuyas
    algún alguna algunos algunas ningún ninguna otro otra otros otras todos todas muchos muchas pocos pocas varios varias ciertos ciertas`),
  leanNext: words("yo tú me te se nos os le les no"),
  prepositions: words("a ante bajo con contra de desde durante en entre hacia hasta mediante para por según sin sobre tras"),
  openClause: words(`y e o u ni pero sino mas que porque pues aunque si cuando como donde adonde mientras quien quienes cual cuales
    cuanto cuanta qué quién cuál cómo dónde cuándo cuánto`),
  bindPrevious: NONE,
  capitalisesNouns: false,
};

const FRENCH: FunctionWords = {
  bindNext: words(`le la les l' un une des du au aux mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs ce cet cette ces
    chaque quelques plusieurs aucun aucune certains certaines`),
  leanNext: words("je j' tu il elle on nous vous ils elles ne n' me m' te t' se s' y"),
  prepositions: words("à de d' en dans par pour sur sous avec sans chez vers entre contre depuis pendant avant après selon malgré jusqu' jusque"),
  openClause: words("et ou mais donc or ni car que qu' qui quand lorsque lorsqu' puisque puisqu' parce comme si dont où pourquoi comment quoi"),
  bindPrevious: NONE,
  capitalisesNouns: false,
};

const ITALIAN: FunctionWords = {
  bindNext: words(`il lo la l' i gli le un uno una un' del dello della dell' dei degli delle al allo alla all' ai agli alle nel nello
    nella nell' nei negli nelle sul sullo sulla sull' sui sugli sulle dal dallo dalla dall' dai dagli dalle mio mia miei mie tuo tua tuoi
    tue suo sua suoi sue nostro nostra nostri nostre vostro vostra vostri vostre questo questa questi queste quel quello quella quei quegli
    quelle ogni qualche alcuni alcune molti molte pochi poche tutti tutte altri altre`),
  leanNext: words("io tu lui lei noi voi loro mi ti si ci vi ne non"),
  prepositions: words("a di da in con su per tra fra senza verso dopo presso contro durante sotto sopra dentro fuori"),
  openClause: words("e ed o od ma però che perché poiché quando se come dove mentre anche quindi cui chi qual quale quali sebbene benché"),
  bindPrevious: NONE,
  capitalisesNouns: false,
};

const PORTUGUESE: FunctionWords = {
  bindNext: words(`o a os as um uma uns umas do da dos das no na nos nas ao aos à às pelo pela pelos pelas num numa dum duma meu minha
    meus minhas teu tua teus tuas seu sua seus suas nosso nossa nossos nossas este esta estes estas esse essa esses essas aquele aquela
    aqueles aquelas cada alguns algumas muitos muitas poucos poucas todos todas outros outras vários várias`),
  leanNext: words("eu tu ele ela nós vós eles elas me te se lhe lhes não"),
  prepositions: words("de em para por com sem sobre entre até desde contra durante perante após sob"),
  openClause: words("e ou mas porém porque que quando se como onde enquanto embora pois quem qual quais cujo cuja"),
  bindPrevious: NONE,
  capitalisesNouns: false,
};

const CHINESE: FunctionWords = {
  // A modifier and its noun: "我的 | 朋友" splits what 的 joins.
  bindNext: words("的 之"),
  leanNext: words("地 得 就 都 也 还 又 才"),
  // Coverbs and "and": a break before one is where a Chinese phrase starts ("讨论人工智能 | 在日常生活中").
  prepositions: words("在 把 被 给 对 从 向 跟 和 与 及 为 比 往 离 用 是"),
  openClause: words("但是 但 可是 不过 然而 因为 由于 所以 因此 于是 如果 要是 假如 虽然 尽管 而且 并且 然后 接着 或者 还是 而 即使 只要 只有 无论 不管"),
  // Aspect and sentence-final particles, and Cantonese ones: they close the phrase before them.
  bindPrevious: words("的 了 着 过 吗 呢 吧 啊 呀 嘛 么 们 嘅 咗 喇 啦 咩 嘢 㗎 囉"),
  capitalisesNouns: false,
};

const JAPANESE: FunctionWords = {
  bindNext: NONE,
  leanNext: NONE,
  prepositions: NONE,
  openClause: words("しかし でも だから そして それから また ただ けれども ところが なぜなら つまり"),
  // Case and sentence-final particles: a line breaks after them, never before.
  bindPrevious: words("は が を に へ と で も の や か ね よ な わ ぞ さ から まで より けど けれど って です ます でした ました"),
  capitalisesNouns: false,
};

const FUNCTION_WORDS: Record<string, FunctionWords> = {
  de: GERMAN,
  es: SPANISH,
  fr: FRENCH,
  it: ITALIAN,
  pt: PORTUGUESE,
  zh: CHINESE,
  yue: CHINESE,
  ja: JAPANESE,
};

const PUNCTUATION_ONLY: FunctionWords = { bindNext: NONE, leanNext: NONE, prepositions: NONE, openClause: NONE, bindPrevious: NONE, capitalisesNouns: true };

/** The function words of a base language code; a language without a list breaks by punctuation alone. */
export function functionWordsOf(language: string): FunctionWords {
  return FUNCTION_WORDS[language] ?? PUNCTUATION_ONLY;
}
