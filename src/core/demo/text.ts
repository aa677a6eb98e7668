// Words of the demo business: names, places, staff, and the ticket and survey
// texts (Chinese and English) whose tone follows the customer's story.
import { choice } from './random.ts';

export const SURNAMES = choice<readonly [string, string]>([
  [['王', 'wang'], 72], [['李', 'li'], 70], [['张', 'zhang'], 66], [['刘', 'liu'], 54], [['陈', 'chen'], 45],
  [['杨', 'yang'], 31], [['黄', 'huang'], 24], [['赵', 'zhao'], 22], [['吴', 'wu'], 20], [['周', 'zhou'], 19],
  [['徐', 'xu'], 15], [['孙', 'sun'], 15], [['马', 'ma'], 14], [['朱', 'zhu'], 13], [['胡', 'hu'], 12],
  [['郭', 'guo'], 11], [['何', 'he'], 10], [['林', 'lin'], 10], [['高', 'gao'], 10], [['罗', 'luo'], 9],
  [['郑', 'zheng'], 9], [['梁', 'liang'], 8], [['谢', 'xie'], 7], [['宋', 'song'], 7], [['唐', 'tang'], 6],
  [['许', 'xu'], 6], [['韩', 'han'], 6], [['冯', 'feng'], 6], [['邓', 'deng'], 6], [['曹', 'cao'], 5],
  [['彭', 'peng'], 5], [['曾', 'zeng'], 5], [['肖', 'xiao'], 5], [['田', 'tian'], 4], [['董', 'dong'], 4],
  [['袁', 'yuan'], 4], [['潘', 'pan'], 4], [['蒋', 'jiang'], 4], [['蔡', 'cai'], 4], [['欧阳', 'ouyang'], 1],
]);

export const GIVEN_CHARS =
  '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建文辉玲红海波宇浩然子轩欣怡梓涵雨萱思琪佳怡晨阳一鸣家豪嘉怡俊杰诗涵雅婷志强晓东丹丹';

export const EN_FIRST_F = ['Emily', 'Grace', 'Olivia', 'Sophie', 'Chloe', 'Hannah', 'Mia', 'Lucy', 'Amy', 'Claire', 'Vivian', 'Cindy'];
export const EN_FIRST_M = ['James', 'Daniel', 'Michael', 'David', 'Kevin', 'Jason', 'Tom', 'Eric', 'Ryan', 'Leo', 'Peter', 'Alex'];
export const EN_LAST = ['Smith', 'Chan', 'Wong', 'Lee', 'Brown', 'Taylor', 'Martin', 'Tan', 'Ng', 'Miller', 'Davis', 'Clark'];

export const EMAIL_DOMAINS_CN = choice([['qq.com', 40], ['163.com', 25], ['126.com', 8], ['foxmail.com', 6], ['sina.com', 4], ['gmail.com', 5], ['outlook.com', 5], ['139.com', 3]]);
export const EMAIL_DOMAINS_EN = choice([['gmail.com', 50], ['outlook.com', 25], ['yahoo.com', 10], ['icloud.com', 15]]);

/** Chinese mobile prefixes (3 digits). */
export const MOBILE_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '155', '156', '157', '158', '159', '166', '176', '177', '180', '181', '182', '183', '185', '186', '187', '188', '189', '199'];

export const PLACES = choice<readonly [string, string]>([
  [['上海', '上海'], 16], [['北京', '北京'], 14], [['广东', '广州'], 9], [['广东', '深圳'], 10], [['浙江', '杭州'], 8],
  [['江苏', '南京'], 5], [['江苏', '苏州'], 5], [['四川', '成都'], 6], [['湖北', '武汉'], 5], [['重庆', '重庆'], 4],
  [['陕西', '西安'], 4], [['福建', '厦门'], 3], [['山东', '青岛'], 3], [['天津', '天津'], 3], [['湖南', '长沙'], 3],
  [['浙江', '宁波'], 2],
]);

export const FOREIGN_TIME_ZONES = ['Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Singapore', 'Asia/Tokyo', 'America/Los_Angeles', 'Europe/London', 'Australia/Sydney'];

export const STAFF = ['李静 (Li Jing)', '王磊 (Wang Lei)', '陈晓燕 (Chen Xiaoyan)', '张伟 (Zhang Wei)', '刘洋 (Liu Yang)', 'Grace Lin'];
export const AGENTS = ['agent.zhou', 'agent.wu', 'agent.sun', 'agent.ma', 'agent.hu'];

/** Why a customer leaves: drives their complaints and their churn-reason answer. */
export type Cause = 'price' | 'slow_product_updates' | 'slow_service' | 'logistics' | 'product_quality' | 'other';

/** The churn-reason survey's four choices (SPEC §5). */
export const CHURN_REASON_OF: Record<Cause, string> = {
  price: 'price',
  slow_product_updates: 'slow_product_updates',
  slow_service: 'slow_service',
  logistics: 'other',
  product_quality: 'other',
  other: 'other',
};

/** The ticket category a complaint of that cause is filed under. */
export const TICKET_CATEGORY_OF: Record<Cause, string> = {
  price: 'price',
  slow_product_updates: 'product quality',
  slow_service: 'service attitude',
  logistics: 'logistics',
  product_quality: 'product quality',
  other: 'billing',
};

type Lang = 'zh' | 'en';
type Texts = Record<Lang, readonly (readonly [string, string])[]>;

/** Complaint subject and body per category. */
export const COMPLAINTS: Record<string, Texts> = {
  logistics: {
    zh: [
      ['物流太慢', '下单一周了还没收到货，物流信息三天没更新，太失望了。'],
      ['快递破损', '收到的包裹外箱破了，里面的东西也压坏了，希望尽快处理。'],
      ['配送延误', '说好的次日达结果拖了四天，孩子等着用，很着急。'],
    ],
    en: [
      ['Delivery is very late', 'Ordered a week ago and tracking has not moved in three days. Very disappointed.'],
      ['Parcel arrived damaged', 'The box was crushed and the item inside is broken. Please sort this out quickly.'],
    ],
  },
  'product quality': {
    zh: [
      ['质量有问题', '用了不到两周就坏了，质量和以前差太多了。'],
      ['和描述不符', '实物和页面描述差别很大，颜色和尺寸都不对。'],
      ['产品很久没更新', '这么久了还是老款，没什么新东西，越来越没意思了。'],
    ],
    en: [
      ['Quality problem', 'It broke after less than two weeks. The quality is much worse than before.'],
      ['Not as described', 'The item looks nothing like the product page; wrong size and colour.'],
      ['Nothing new for months', 'Same old products for months, nothing new to try any more.'],
    ],
  },
  'service attitude': {
    zh: [
      ['客服态度差', '打了三次电话都没人解决问题，客服态度敷衍。'],
      ['回复太慢', '留言两天了没人回复，服务越来越差。'],
    ],
    en: [
      ['Rude support', 'Called three times and nobody solved anything; the agent was dismissive.'],
      ['No reply for days', 'I left a message two days ago and still no answer. Service keeps getting worse.'],
    ],
  },
  price: {
    zh: [
      ['价格太贵', '同样的东西别家便宜很多，会员价也没什么优惠。'],
      ['刚买就降价', '我刚买完第二天就降价了，能不能补差价？'],
    ],
    en: [
      ['Too expensive', 'The same thing is much cheaper elsewhere and the member price is no deal.'],
      ['Price dropped right after I bought', 'The price fell the day after my purchase. Can you refund the difference?'],
    ],
  },
  billing: {
    zh: [
      ['重复扣款', '同一笔订单被扣了两次钱，请尽快退款。'],
      ['发票问题', '申请的发票一直没开出来。'],
    ],
    en: [
      ['Charged twice', 'I was charged twice for the same order, please refund one.'],
      ['Invoice missing', 'I requested an invoice weeks ago and never got it.'],
    ],
  },
};

export const INQUIRIES: Texts = {
  zh: [
    ['咨询会员权益', '请问金卡会员有哪些权益？'],
    ['积分怎么用', '我的积分可以兑换什么？'],
    ['营业时间', '周末几点开门？'],
  ],
  en: [
    ['Membership benefits', 'What do gold members get?'],
    ['Using points', 'What can I redeem my points for?'],
  ],
};

export const SUGGESTIONS: Texts = {
  zh: [
    ['建议增加新品', '希望能多上一些新品，选择多一点。'],
    ['建议优化小程序', '小程序下单步骤有点多，希望简化。'],
  ],
  en: [
    ['More new products please', 'Would love to see more new arrivals.'],
    ['Simplify checkout', 'The mini-program checkout has too many steps.'],
  ],
};

/** Survey free text by tone. */
export const SURVEY_TEXT: Record<'positive' | 'neutral' | 'negative', Record<Lang, readonly string[]>> = {
  positive: {
    zh: ['服务很好，会继续支持！', '质量不错，下次还来。', '店员很热情，体验很棒。', '性价比高，推荐给朋友了。'],
    en: ['Great service, will come back!', 'Good quality, I will buy again.', 'Friendly staff, lovely experience.', 'Good value, recommended it to friends.'],
  },
  neutral: {
    zh: ['还可以吧。', '一般，没什么特别的。', '整体还行，价格再便宜点就好了。'],
    en: ['It is okay.', 'Nothing special.', 'Fine overall, a bit pricey.'],
  },
  negative: {
    zh: ['太失望了，不会再来了。', '价格太贵，别家更划算。', '客服态度很差，问题一直没解决。', '物流太慢了，等了一个多星期。', '很久没有新品了，没什么吸引力。', '质量越来越差。'],
    en: ['Very disappointed, I will not come back.', 'Too expensive, others are cheaper.', 'Terrible support, my problem was never solved.', 'Delivery took over a week.', 'Nothing new for ages.', 'Quality keeps getting worse.'],
  },
};

/** Churn-reason survey text, by reason. */
export const CHURN_TEXT: Record<string, Record<Lang, readonly string[]>> = {
  price: { zh: ['价格太高了', '别家有更便宜的'], en: ['Too expensive', 'Found it cheaper elsewhere'] },
  slow_product_updates: { zh: ['产品更新太慢', '一直没有新东西'], en: ['Products are never updated', 'Nothing new'] },
  slow_service: { zh: ['服务响应太慢', '投诉没人处理'], en: ['Service is too slow', 'My complaint was ignored'] },
  other: { zh: ['搬家了', '暂时不需要了', '物流体验差'], en: ['Moved away', 'No longer need it', 'Bad delivery experience'] },
};
